"""The MPI tests run only inside an MPI job of at least two processes (scripts/test-mpi:
``mpirun -np 2 python -m pytest bindings/python/tests/mpi``); an ordinary pytest run of
the suite leaves them out, without importing mpi4py (whose MPI_Init, outside mpirun,
would start a singleton job).  Every process runs every test, in the same order, so
their collectives match."""

import os

_SIZE = int(os.environ.get("OMPI_COMM_WORLD_SIZE") or os.environ.get("PMI_SIZE") or 0)

collect_ignore_glob = [] if _SIZE >= 2 else ["test_*.py"]

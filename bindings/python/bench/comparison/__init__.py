"""compare.py's parts: the library next to numpy (and PyTorch, JAX) on the workloads of
benchmarks.md, in one run.

    workloads      the specs and their synthetic data
    parameters     backprop.h's flat parameter layout, split for the references
    numpy_mlp, torch_mlp, jax_mlp, library_mlp
                   the implementations, each with forward / train_step / sync
    checks         the step is real and the reference computes the library's step
    timer          one repeat at a time, so that the implementations take turns
    worker         the reference processes and their line-per-request protocol
    references     the run's reference processes, started on first use
    measure        one workload: checks, then turns of repeats
    long_run       DL, the library's 20M-step run by quarter
    call_overhead  the Python per-call overhead section (bench/overhead.py)
    machine_state  how busy the machine was during the run
    environment    the library, the CPU and this process, as the header
    report         the table and its notes
    cli, main      the command line and the run
"""

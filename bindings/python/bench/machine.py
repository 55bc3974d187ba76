"""The CPU a benchmark ran on, named as bench/bench.c names it: "vendor family F model M:
name", from the first processor of /proc/cpuinfo, with the online core count."""

import os


def cpu_description() -> str:
    fields = {}
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if not line.strip():
                    break  # the first processor's block ends here
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        return f"unknown CPU, {os.cpu_count()} cores"
    return (f"{fields.get('vendor_id', '?')} family {fields.get('cpu family', '?')} model {fields.get('model', '?')}: "
            f"{fields.get('model name', '?')}, {os.cpu_count()} cores")

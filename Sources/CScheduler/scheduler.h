/* The GNU scheduler calls Swift's Glibc module leaves out (they need _GNU_SOURCE):
 * sched_getcpu(), which the thread pool uses to notice a worker sharing the caller's
 * CPU. Declarations only; nothing here is compiled or linked beyond libc. */
#ifndef BACKPROP_SCHEDULER_H
#define BACKPROP_SCHEDULER_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>

#endif

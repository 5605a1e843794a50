/* Simulated time: an unsigned 64-bit count of picoseconds since the start of the
 * simulation. 2^64 ps is about 213 days of simulated time, far beyond any run. */
#ifndef PCILAB_SIM_TIME_H
#define PCILAB_SIM_TIME_H

#include <stdint.h>

typedef uint64_t sim_time_t;

#define SIM_PS ((sim_time_t)1)
#define SIM_NS ((sim_time_t)1000)
#define SIM_US ((sim_time_t)1000000)
#define SIM_MS ((sim_time_t)1000000000)
#define SIM_S  ((sim_time_t)1000000000000)

/* The largest representable time; "never". */
#define SIM_TIME_MAX UINT64_MAX

/* Saturating addition: a delay that would overflow gives SIM_TIME_MAX. */
static inline sim_time_t sim_time_add(sim_time_t t, sim_time_t delay)
{
    return delay > SIM_TIME_MAX - t ? SIM_TIME_MAX : t + delay;
}

#endif

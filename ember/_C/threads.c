/* ember's threads for compiled kernels: one call cut into ranges that run at the same time,
 * without Python.
 *
 * ember/_parallel.py splits an op over Python threads: each range is a Python call on a
 * worker, which must be woken (tens of microseconds on a virtual machine) and must take
 * Python's global lock before it starts and again when it ends. That costs about what a range
 * of a small layer's product takes. A kernel that splits itself here instead hands its ranges
 * to threads that never touch Python: `parallel_ranges` is called without the global lock,
 * runs range 0 on the calling thread, and returns when every range is done.
 *
 * The other ranges are taken, one at a time, by whichever thread comes first: the pool's
 * threads as they wake, and the calling thread once its own range is done. So a pool thread
 * that is slow to start (asleep, or waiting for a core another job holds) never makes the
 * caller wait for a range nobody has begun: the caller does it itself. Which thread does a
 * range changes no result: each range is computed alone, on the same bounds.
 *
 * A pool thread that finds no more ranges keeps watching for the next call for a short while
 * (`SPIN_NS`) before it sleeps on a condition variable: a training step calls split kernels
 * every few tens of microseconds, and a thread still awake starts in well under one, where
 * waking a sleeping one takes tens. The watch is short so that on a machine other jobs keep
 * busy it takes little from them (OpenMP's threads, PyTorch's, watch far longer). With more
 * threads than cores (ember.set_num_threads above the count) nobody watches: a watching
 * thread would hold the core that another needs to finish its range.
 *
 * The ranges of one call are those of ember/_parallel.py's split (range i is
 * [count * i / parts, count * (i + 1) / parts)), so a kernel's results do not depend on which
 * of the two splits it. One call uses the pool at a time; a call from another thread while it
 * is in use (or from inside a range) runs its ranges on its own thread, in order, with the
 * same results. A child process made by fork has none of the parent's threads: the pool
 * starts empty there. */
#define _GNU_SOURCE  /* sched_getaffinity */
#include "kernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdint.h>
#include <time.h>

/* How long a pool thread watches for the next call before it sleeps, and the calling thread
 * for ranges that pool threads are still running. About the time between two split kernels
 * of a small transformer's step (the Python of the ops between them). A watch pauses, and
 * does not sched_yield: on a machine that other jobs keep busy, that hands one of them the
 * core for a whole time slice (milliseconds), where the wait is meant to last microseconds. */
#define SPIN_NS 50000
#define CALLER_SPIN_NS 20000
#define MAX_POOL 63
#define MAX_PARTS (MAX_POOL + 1)

#if defined(__x86_64__) || defined(__i386__)
#define CPU_PAUSE() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define CPU_PAUSE() __asm__ __volatile__("yield")
#else
#define CPU_PAUSE() ((void)0)
#endif

/* The claim counter of a call: its number (bits 24 and up), its count of ranges (bits 16-23)
 * and the next range to take (bits 0-15), in one word, so that one atomic increment both
 * takes a range and tells which call it belongs to and whether it exists. */
#define CLAIM_INDEX(claim) ((int)((claim) & 0xffff))
#define CLAIM_PARTS(claim) ((int)(((claim) >> 16) & 0xff))
#define CLAIM(call, parts, index) (((call) << 24) | ((long long)(parts) << 16) | (index))

static struct {
    pthread_mutex_t use;        /* held by the one call that uses the pool */
    pthread_mutex_t lock;       /* guards sleeping and waking (the conditions) */
    pthread_cond_t work;        /* a new call */
    pthread_cond_t finished;    /* the last range of a call is done */
    atomic_llong calls;         /* calls so far: a pool thread looks for ranges when it changes */
    atomic_llong claim;         /* the current call's claim counter (CLAIM) */
    atomic_int pending;         /* its ranges 1 to parts - 1 not yet done */
    range_function function;    /* the current call: stable while a range of it is pending */
    void *context;
    Py_ssize_t count;
    int threads;                /* pool threads started */
    atomic_int watch;           /* whether pool threads watch for the next call (below) */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
          PTHREAD_COND_INITIALIZER};

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Take and run ranges of the current call until none is left. */
static void run_claimed_ranges(void)
{
    for (;;) {
        const long long claim = atomic_fetch_add_explicit(&pool.claim, 1, memory_order_acq_rel);
        const int index = CLAIM_INDEX(claim), parts = CLAIM_PARTS(claim);
        if (index >= parts)
            return;
        /* The call cannot end before this range is done: its fields stay as they are. */
        pool.function(pool.context, pool.count * index / parts,
                      pool.count * (index + 1) / parts);
        if (atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool.lock);
            pthread_cond_signal(&pool.finished);
            pthread_mutex_unlock(&pool.lock);
        }
    }
}

static void *pool_thread(void *argument)
{
    long long seen = (long long)(intptr_t)argument;
    for (;;) {
        long long current = atomic_load_explicit(&pool.calls, memory_order_acquire);
        if (current == seen && atomic_load_explicit(&pool.watch, memory_order_relaxed)) {
            const long long deadline = now_ns() + SPIN_NS;
            for (int turn = 1; current == seen; turn++) {
                CPU_PAUSE();
                current = atomic_load_explicit(&pool.calls, memory_order_acquire);
                if (turn % 16 == 0 && now_ns() > deadline)
                    break;
            }
        }
        if (current == seen) {
            pthread_mutex_lock(&pool.lock);
            while ((current = atomic_load_explicit(&pool.calls, memory_order_acquire)) == seen)
                pthread_cond_wait(&pool.work, &pool.lock);
            pthread_mutex_unlock(&pool.lock);
        }
        seen = current;
        run_claimed_ranges();
    }
    return NULL;
}

/* Start pool threads until there are `wanted` (at most MAX_POOL); the count reached. */
static int start_threads(int wanted)
{
    if (wanted > MAX_POOL)
        wanted = MAX_POOL;
    while (pool.threads < wanted) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        const long long seen = atomic_load(&pool.calls);
        const int failed = pthread_create(&thread, &attributes, pool_thread,
                                          (void *)(intptr_t)seen);
        pthread_attr_destroy(&attributes);
        if (failed)
            break;
        pool.threads++;
    }
    return pool.threads;
}

/* The pool after fork, in the child: no threads, nothing in use. */
static void forget_pool(void)
{
    pthread_mutex_init(&pool.use, NULL);
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.work, NULL);
    pthread_cond_init(&pool.finished, NULL);
    atomic_store(&pool.pending, 0);
    pool.threads = 0;
}

static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;

static void register_fork_handler(void)
{
    pthread_atfork(NULL, NULL, forget_pool);
}

/* The CPUs this process may run on (at least 1). */
static int usable_cpus(void)
{
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
#endif
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}

static void run_in_order(Py_ssize_t count, int parts, range_function function, void *context)
{
    for (int i = 0; i < parts; i++)
        function(context, count * i / parts, count * (i + 1) / parts);
}

int parallel_parts(Py_ssize_t count, int parts)
{
    if (parts > count)
        parts = (int)count;
    if (parts > MAX_PARTS)
        parts = MAX_PARTS;
    return parts > 1 ? parts : 1;
}

void parallel_ranges(Py_ssize_t count, int parts, range_function function, void *context)
{
    parts = parallel_parts(count, parts);
    if (parts == 1) {
        function(context, 0, count);
        return;
    }
    if (pthread_mutex_trylock(&pool.use) != 0) {  /* in use: here, in order */
        run_in_order(count, parts, function, context);
        return;
    }
    pthread_once(&fork_handler_once, register_fork_handler);
    if (start_threads(parts - 1) < 1) {  /* no thread to be had */
        pthread_mutex_unlock(&pool.use);
        run_in_order(count, parts, function, context);
        return;
    }
    /* Watching threads are only worth it with a core each: with more threads than cores
     * (ember.set_num_threads above the count), one watching would take the core another
     * needs to finish its range, so they sleep at once instead. */
    static int cpus = 0;
    if (cpus == 0)
        cpus = usable_cpus();
    atomic_store_explicit(&pool.watch, parts <= cpus, memory_order_relaxed);
    pool.function = function;
    pool.context = context;
    pool.count = count;
    atomic_store_explicit(&pool.pending, parts - 1, memory_order_relaxed);
    const long long call = atomic_load_explicit(&pool.calls, memory_order_relaxed) + 1;
    atomic_store_explicit(&pool.claim, CLAIM(call, parts, 1), memory_order_release);
    pthread_mutex_lock(&pool.lock);
    atomic_store_explicit(&pool.calls, call, memory_order_release);
    pthread_cond_broadcast(&pool.work);
    pthread_mutex_unlock(&pool.lock);

    function(context, 0, count / parts);
    run_claimed_ranges();  /* what no pool thread has taken yet */

    if (atomic_load_explicit(&pool.pending, memory_order_acquire)) {
        const long long deadline = now_ns() + (parts <= cpus ? CALLER_SPIN_NS : 0);
        for (int turn = 1; atomic_load_explicit(&pool.pending, memory_order_acquire); turn++) {
            CPU_PAUSE();
            if (turn % 16 == 0 && now_ns() > deadline)
                break;
        }
        pthread_mutex_lock(&pool.lock);
        while (atomic_load_explicit(&pool.pending, memory_order_acquire))
            pthread_cond_wait(&pool.finished, &pool.lock);
        pthread_mutex_unlock(&pool.lock);
    }
    pthread_mutex_unlock(&pool.use);
}

/* parallel_threads(): how many threads the pool has started (for tests). */
PyObject *parallel_threads(PyObject *self, PyObject *args)
{
    return PyLong_FromLong(pool.threads);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Driver callback frames: which tasks are inside a driver callback.
 *
 * A driver callback (&dshim_sched_ops.run, .timedout, .cancel, .free) must
 * not wait for the shim: dshim_flush() from a callback waits for the very
 * work item it runs in, and *_wait_idle() waits for a job free that cannot
 * happen before the callback returns. In C that is a documented rule; a
 * safe Rust abstraction must turn it into an error, since nothing in the
 * types stops a job's data from holding a queue handle and waiting on it.
 *
 * So every call into the driver is bracketed by a frame on the calling
 * task's stack, hashed by task into a small table; the waits look the
 * caller up and return -EDEADLK at once. No allocation (run is a fence
 * signalling path), two uncontended spinlock round trips per callback, a
 * lookup only in the waits. Frames nest (a task never calls back twice
 * today, but nothing here depends on it).
 */

#include <linux/cache.h>
#include <linux/hash.h>
#include <linux/list.h>
#include <linux/sched.h>
#include <linux/spinlock.h>

#include "internal.h"

#define DSHIM_CB_HASH_BITS	6

/*
 * One bucket: the frames of the tasks hashing to it. @lock protects
 * @frames, and the frames' @node links. A cache line each: the run and
 * free workers of different CPUs are different tasks, and would otherwise
 * bounce one line between them on every job.
 */
static struct dshim_cb_bucket {
	spinlock_t lock;			/* protects @frames */
	struct hlist_head frames;		/* L: &dshim_cb_frame.node */
} ____cacheline_aligned_in_smp dshim_cb_table[1 << DSHIM_CB_HASH_BITS] = {
	[0 ... (1 << DSHIM_CB_HASH_BITS) - 1] = {
		.lock = __SPIN_LOCK_UNLOCKED(dshim_cb_table.lock),
	},
};

static struct dshim_cb_bucket *dshim_cb_bucket(struct task_struct *task)
{
	return &dshim_cb_table[hash_ptr(task, DSHIM_CB_HASH_BITS)];
}

/**
 * dshim_callback_enter() - the current task is about to call the driver
 * @frame: the frame, on the caller's stack until dshim_callback_exit()
 *
 * Context: Process context (every callback runs on a workqueue, or
 * for a direct-submit queue's run, in dshim_job_submit()'s caller).
 */
void dshim_callback_enter(struct dshim_cb_frame *frame)
{
	struct dshim_cb_bucket *b = dshim_cb_bucket(current);

	frame->task = current;
	spin_lock(&b->lock);
	hlist_add_head(&frame->node, &b->frames);
	spin_unlock(&b->lock);
}

/**
 * dshim_callback_exit() - the driver callback of @frame returned
 * @frame: the frame given to dshim_callback_enter() by this task
 *
 * Context: Process context, the task that entered @frame.
 */
void dshim_callback_exit(struct dshim_cb_frame *frame)
{
	struct dshim_cb_bucket *b = dshim_cb_bucket(frame->task);

	spin_lock(&b->lock);
	hlist_del(&frame->node);
	spin_unlock(&b->lock);
}

/**
 * dshim_in_callback() - whether the current task is inside a driver callback
 *
 * Context: Process context.
 * Return: true between dshim_callback_enter() and dshim_callback_exit() of
 * a frame of the current task.
 */
bool dshim_in_callback(void)
{
	struct dshim_cb_bucket *b = dshim_cb_bucket(current);
	struct dshim_cb_frame *frame;
	bool found = false;

	spin_lock(&b->lock);
	hlist_for_each_entry(frame, &b->frames, node) {
		if (frame->task == current) {
			found = true;
			break;
		}
	}
	spin_unlock(&b->lock);
	return found;
}

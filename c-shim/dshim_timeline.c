// SPDX-License-Identifier: GPL-2.0-only
/*
 * DRM scheduler shim: fence timelines.
 */

#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "internal.h"

/**
 * DOC: timelines
 *
 * A timeline is all a fence needs once it has signalled: a name for
 * &dma_fence_ops.get_timeline_name and a fence context. It is a small
 * refcounted object of its own so that a fence pins only it, never the
 * scheduler, entity or driver that made the fence. Each entity has one
 * (its jobs' fences); drivers create their own for hardware fences.
 */

/**
 * dshim_timeline_create() - create a fence timeline
 * @name: timeline name, copied; at most %DSHIM_NAME_MAX - 1 characters
 *
 * Allocates a new fence context. The caller owns the returned reference.
 *
 * Context: Process context; may sleep (GFP_KERNEL allocation).
 * Return: the timeline, ERR_PTR(-EINVAL) if @name is NULL,
 * ERR_PTR(-ENAMETOOLONG) if it is too long, ERR_PTR(-ENOMEM).
 */
struct dshim_timeline *dshim_timeline_create(const char *name)
{
	struct dshim_timeline *tl;

	if (DSHIM_MISUSE(!name, "timeline name is NULL\n"))
		return ERR_PTR(-EINVAL);
	if (strnlen(name, DSHIM_NAME_MAX) >= DSHIM_NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);

	if (!dshim_timeline_cache)
		return ERR_PTR(-ENODEV);	/* the shim failed to initialise */
	tl = dshim_fail_alloc() ? NULL :
	     kmem_cache_zalloc(dshim_timeline_cache, GFP_KERNEL);
	if (!tl)
		return ERR_PTR(-ENOMEM);

	refcount_set(&tl->refcount, 1);
	tl->context = dma_fence_context_alloc(1);
	atomic64_set(&tl->seqno, 0);
	strscpy(tl->name, name, sizeof(tl->name));
	dshim_count_inc(timelines);
	return tl;
}
EXPORT_SYMBOL_GPL(dshim_timeline_create);

/**
 * dshim_timeline_get() - take a reference on a timeline
 * @tl: the timeline
 *
 * Context: Any context.
 * Return: @tl, or NULL if @tl is NULL or an error pointer.
 */
struct dshim_timeline *dshim_timeline_get(struct dshim_timeline *tl)
{
	if (DSHIM_BAD_HANDLE(tl))
		return NULL;
	refcount_inc(&tl->refcount);
	return tl;
}
EXPORT_SYMBOL_GPL(dshim_timeline_get);

/**
 * dshim_timeline_put() - drop a reference on a timeline
 * @tl: the timeline, or NULL
 *
 * Fences on the timeline hold references of their own, so the timeline
 * (and its name) lives until the last of them is released. The memory is
 * freed after an RCU grace period: a reader that found a fence under
 * rcu_read_lock() may still read the name.
 *
 * Context: Any context.
 */
void dshim_timeline_put(struct dshim_timeline *tl)
{
	if (!tl || DSHIM_BAD_HANDLE(tl))
		return;
	if (refcount_dec_and_test(&tl->refcount)) {
		dshim_count_dec(timelines);
		kfree_rcu(tl, rcu);
	}
}
EXPORT_SYMBOL_GPL(dshim_timeline_put);

/**
 * dshim_timeline_context() - fence context of a timeline
 * @tl: the timeline
 *
 * Context: Any context.
 * Return: the dma_fence context shared by all fences on @tl, 0 for a bad
 * handle.
 */
u64 dshim_timeline_context(const struct dshim_timeline *tl)
{
	if (DSHIM_BAD_HANDLE(tl))
		return 0;
	return tl->context;
}
EXPORT_SYMBOL_GPL(dshim_timeline_context);

/**
 * dshim_timeline_name() - name of a timeline
 * @tl: the timeline
 *
 * Context: Any context.
 * Return: the name, valid as long as the caller holds a reference on @tl;
 * "" for a bad handle.
 */
const char *dshim_timeline_name(const struct dshim_timeline *tl)
{
	if (DSHIM_BAD_HANDLE(tl))
		return "";
	return tl->name;
}
EXPORT_SYMBOL_GPL(dshim_timeline_name);

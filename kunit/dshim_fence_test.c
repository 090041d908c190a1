// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: timelines and hardware fences of the DRM scheduler shim.
 */

#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "../c-shim/internal.h"
#include "dshim_test.h"

/* Describe @fence the way debugfs and sync_file do, into @buf. */
static void describe(struct dma_fence *fence, char *buf, size_t size)
{
	struct seq_file m = { .buf = buf, .size = size };

	memset(buf, 0, size);
	dma_fence_describe(fence, &m);
}

/* A timeline has the name it was given and a context of its own. */
static void dshim_timeline_create_put(struct kunit *test)
{
	struct dshim_timeline *a, *b;

	a = dshim_timeline_create("ring0");
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	b = dshim_timeline_create("ring1");
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));

	KUNIT_EXPECT_STREQ(test, dshim_timeline_name(a), "ring0");
	KUNIT_EXPECT_STREQ(test, dshim_timeline_name(b), "ring1");
	KUNIT_EXPECT_NE(test, dshim_timeline_context(a),
			dshim_timeline_context(b));

	KUNIT_EXPECT_PTR_EQ(test, dshim_timeline_get(a), a);
	dshim_timeline_put(a);
	dshim_timeline_put(a);
	dshim_timeline_put(b);
	dshim_timeline_put(NULL);
}

/* Names of DSHIM_NAME_MAX characters or more are refused. */
static void dshim_timeline_name_too_long(struct kunit *test)
{
	char name[DSHIM_NAME_MAX + 1];
	struct dshim_timeline *tl;

	memset(name, 'x', sizeof(name) - 1);
	name[DSHIM_NAME_MAX] = '\0';
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_timeline_create(name)),
			-ENAMETOOLONG);

	name[DSHIM_NAME_MAX - 1] = '\0';	/* the longest allowed */
	tl = dshim_timeline_create(name);
	KUNIT_ASSERT_FALSE(test, IS_ERR(tl));
	KUNIT_EXPECT_STREQ(test, dshim_timeline_name(tl), name);
	dshim_timeline_put(tl);
}

/* Hardware fences get increasing seqnos and signal with the given error. */
static void dshim_hw_fence_signal_error(struct kunit *test)
{
	struct dshim_timeline *tl = dshim_timeline_create("hw");
	struct dma_fence *f1, *f2;

	KUNIT_ASSERT_FALSE(test, IS_ERR(tl));
	f1 = dshim_hw_fence_create(tl);
	f2 = dshim_hw_fence_create(tl);
	KUNIT_ASSERT_FALSE(test, IS_ERR(f1));
	KUNIT_ASSERT_FALSE(test, IS_ERR(f2));
	KUNIT_EXPECT_TRUE(test, dshim_fence_is_shim(f1));
	KUNIT_EXPECT_EQ(test, f1->context, dshim_timeline_context(tl));
	KUNIT_EXPECT_GT(test, f2->seqno, f1->seqno);

	KUNIT_EXPECT_EQ(test, dshim_hw_fence_signal(f1, 0), 0);
	KUNIT_EXPECT_EQ(test, dshim_hw_fence_signal(f2, -EIO), 0);
	KUNIT_EXPECT_EQ(test, dshim_hw_fence_signal(f2, 0), -EALREADY);
	KUNIT_EXPECT_TRUE(test, dma_fence_is_signaled(f1));
	KUNIT_EXPECT_EQ(test, f1->error, 0);
	KUNIT_EXPECT_EQ(test, f2->error, -EIO);

	dma_fence_put(f1);
	dma_fence_put(f2);
	dshim_timeline_put(tl);
}

/*
 * Fences allocated ahead are numbered when armed, in the order the
 * hardware gets them, not the order they were allocated; arming allocates
 * nothing, and an unarmed fence can be freed.
 */
static void dshim_hw_fence_armed_in_order(struct kunit *test)
{
	struct dshim_timeline *tl = dshim_timeline_create("hw-arm");
	struct dshim_hw_fence *a, *b, *unused;
	struct dshim_stats before, after;
	struct dma_fence *fb, *fa;
	bool cookie;

	KUNIT_ASSERT_FALSE(test, IS_ERR(tl));
	dshim_stats_read(&before);
	a = dshim_hw_fence_alloc();
	b = dshim_hw_fence_alloc();
	unused = dshim_hw_fence_alloc();
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	KUNIT_ASSERT_FALSE(test, IS_ERR(unused));
	dshim_stats_read(&after);
	KUNIT_EXPECT_EQ(test, after.fences - before.fences, 3);

	/* as in run: a signalling section, where lockdep flags allocations */
	cookie = dma_fence_begin_signalling();
	fb = dshim_hw_fence_arm(b, tl);
	fa = dshim_hw_fence_arm(a, tl);
	dma_fence_end_signalling(cookie);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fb));
	KUNIT_ASSERT_FALSE(test, IS_ERR(fa));
	KUNIT_EXPECT_EQ(test, fb->seqno, 1);
	KUNIT_EXPECT_EQ(test, fa->seqno, 2);
	KUNIT_EXPECT_EQ(test, fa->context, dshim_timeline_context(tl));
	KUNIT_EXPECT_TRUE(test, dshim_fence_is_shim(fa));
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(fb));

	dshim_hw_fence_free(unused);
	dshim_hw_fence_free(NULL);
	KUNIT_EXPECT_EQ(test, dshim_hw_fence_signal(fb, 0), 0);
	KUNIT_EXPECT_EQ(test, dshim_hw_fence_signal(fa, -EIO), 0);
	KUNIT_EXPECT_EQ(test, fa->error, -EIO);
	dma_fence_put(fb);
	dma_fence_put(fa);
	dshim_timeline_put(tl);
	dshim_stats_read(&after);
	KUNIT_EXPECT_EQ(test, after.fences, before.fences);
}

/* A fence keeps its timeline: names stay readable after the owner put it. */
static void dshim_hw_fence_outlives_timeline_owner(struct kunit *test)
{
	struct dshim_timeline *tl = dshim_timeline_create("gpu-ring");
	struct dma_fence *f;
	char buf[128], want[128];

	KUNIT_ASSERT_FALSE(test, IS_ERR(tl));
	f = dshim_hw_fence_create(tl);
	KUNIT_ASSERT_FALSE(test, IS_ERR(f));
	dshim_timeline_put(tl);		/* the fence's reference remains */

	describe(f, buf, sizeof(buf));
	dshim_test_describe_expect(want, sizeof(want), f, "gpu-ring", false);
	KUNIT_EXPECT_STREQ(test, buf, want);
	dshim_hw_fence_signal(f, 0);
	describe(f, buf, sizeof(buf));
	dshim_test_describe_expect(want, sizeof(want), f, "gpu-ring", true);
	KUNIT_EXPECT_STREQ(test, buf, want);
	/* whoever still asks the fence itself gets the names */
	KUNIT_EXPECT_STREQ(test, dshim_fence_ops_of(f)->get_timeline_name(f),
			   "gpu-ring");
	dma_fence_put(f);
}

static void dummy_fence_cb(struct dma_fence *f, struct dma_fence_cb *cb)
{
}

/* Misuse of the fence API fails cleanly and is counted as a driver bug. */
static void dshim_hw_fence_bad_input(struct kunit *test)
{
	struct dshim_timeline *tl = dshim_timeline_create("hw");
	struct dshim_stats before, after;
	struct dshim_hw_fence *hwf;
	struct dma_fence *f;

	KUNIT_ASSERT_FALSE(test, IS_ERR(tl));
	f = dshim_hw_fence_create(tl);
	KUNIT_ASSERT_FALSE(test, IS_ERR(f));
	hwf = dshim_hw_fence_alloc();
	KUNIT_ASSERT_FALSE(test, IS_ERR(hwf));

	dshim_stats_read(&before);
	dshim_test_expect_warn_begin();
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_hw_fence_create(NULL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_hw_fence_create(ERR_PTR(-EIO))),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_hw_fence_arm(NULL, tl)), -EINVAL);
	/* consumed even so: the count below says it was freed */
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_hw_fence_arm(hwf, NULL)), -EINVAL);
	/* an armed fence is neither armed again nor freed: @f lives on */
	KUNIT_EXPECT_EQ(test,
			PTR_ERR(dshim_hw_fence_arm((struct dshim_hw_fence *)f, tl)),
			-EINVAL);
	dshim_hw_fence_free((struct dshim_hw_fence *)f);
	KUNIT_EXPECT_EQ(test, dshim_hw_fence_signal(NULL, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, dshim_hw_fence_signal(f, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(dshim_timeline_create(NULL)), -EINVAL);
	KUNIT_EXPECT_NULL(test, dshim_timeline_get(NULL));
	dshim_test_expect_warn_end();
	dshim_stats_read(&after);
	KUNIT_EXPECT_EQ(test, after.driver_bugs - before.driver_bugs, 10);
	KUNIT_EXPECT_EQ(test, before.fences - after.fences, 1);

	/* the fence is still usable, and callbacks work as on any fence */
	{
		struct dma_fence_cb cb;

		KUNIT_EXPECT_EQ(test, dma_fence_add_callback(f, &cb,
							     dummy_fence_cb),
				0);
		KUNIT_EXPECT_TRUE(test, dma_fence_remove_callback(f, &cb));
	}
	KUNIT_EXPECT_EQ(test, dshim_hw_fence_signal(f, 0), 0);
	dma_fence_put(f);
	dshim_timeline_put(tl);
}

/* The debugfs stats file shows every counter. */
static void dshim_stats_debugfs_show(struct kunit *test)
{
	struct dshim_timeline *tl = dshim_timeline_create("stats");
	char buf[256] = {};
	struct seq_file m = { .buf = buf, .size = sizeof(buf) - 1 };

	KUNIT_ASSERT_FALSE(test, IS_ERR(tl));
	KUNIT_EXPECT_EQ(test, dshim_stats_show(&m, NULL), 0);
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "timelines: 1\n"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "scheds: 0\n"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "driver_bugs: "));
	dshim_timeline_put(tl);
}

/*
 * Fences outlive every driver module, so their ops must be in the kernel
 * image: the shim is built in (Kconfig bool), never a module.
 */
static void dshim_fence_ops_built_in(struct kunit *test)
{
	struct dshim_timeline *tl = dshim_timeline_create("builtin");
	struct dma_fence *f;

	KUNIT_ASSERT_FALSE(test, IS_ERR(tl));
	f = dshim_hw_fence_create(tl);
	KUNIT_ASSERT_FALSE(test, IS_ERR(f));
	KUNIT_EXPECT_TRUE(test, core_kernel_text((unsigned long)
						 dshim_fence_ops_of(f)->get_timeline_name));
	KUNIT_EXPECT_TRUE(test, core_kernel_text((unsigned long)
						 dshim_fence_ops_of(f)->release));
	dshim_hw_fence_signal(f, 0);
	dma_fence_put(f);
	dshim_timeline_put(tl);
}

/*
 * Fences and timelines come from the shim's own slab caches, not from
 * kmalloc's, so that a fence kept long pins no page of other objects.
 * (ksize() of a kmalloc object is its kmalloc size class, which differs.)
 */
static void dshim_fence_own_caches(struct kunit *test)
{
	struct dshim_timeline *tl = dshim_timeline_create("caches");
	struct dma_fence *f;

	KUNIT_ASSERT_FALSE(test, IS_ERR(tl));
	f = dshim_hw_fence_create(tl);
	KUNIT_ASSERT_FALSE(test, IS_ERR(f));
	KUNIT_EXPECT_EQ(test, ksize(container_of(f, struct dshim_fence, base)),
			kmem_cache_size(dshim_hw_fence_cache));
	KUNIT_EXPECT_EQ(test, ksize(tl), kmem_cache_size(dshim_timeline_cache));
	KUNIT_EXPECT_EQ(test, kmem_cache_size(dshim_job_fence_cache),
			sizeof(struct dshim_fence));
	dshim_hw_fence_signal(f, 0);
	dma_fence_put(f);
	dshim_timeline_put(tl);
}

static struct kunit_case dshim_fence_cases[] = {
	KUNIT_CASE(dshim_timeline_create_put),
	KUNIT_CASE(dshim_timeline_name_too_long),
	KUNIT_CASE(dshim_hw_fence_signal_error),
	KUNIT_CASE(dshim_hw_fence_armed_in_order),
	KUNIT_CASE(dshim_hw_fence_outlives_timeline_owner),
	KUNIT_CASE(dshim_hw_fence_bad_input),
	KUNIT_CASE(dshim_stats_debugfs_show),
	KUNIT_CASE(dshim_fence_ops_built_in),
	KUNIT_CASE(dshim_fence_own_caches),
	{}
};

static struct kunit_suite dshim_fence_suite = {
	.name = "dshim_fence",
	.exit = dshim_test_expect_clean,
	.test_cases = dshim_fence_cases,
};

kunit_test_suite(dshim_fence_suite);

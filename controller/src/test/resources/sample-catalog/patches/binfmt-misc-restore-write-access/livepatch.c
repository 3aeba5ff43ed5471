// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch for binfmt_misc (6.1.176): restore write access to the
 * interpreter of an 'F' entry when the entry is freed.
 *
 * Backport of the stable fix "binfmt_misc: restore write access when
 * removing an entry" (in 6.1.184).  Replaces put_binfmt_handler() in the
 * binfmt_misc module; the patch is applied whenever the module is loaded.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/version.h>

/* 6.1.184 and later already carry the fix. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 184)
#error "the fix is part of 6.1.184 and later"
#endif

/* From fs/binfmt_misc.c: the layout must match the patched module. */
#define MISC_FMT_OPEN_FILE (1UL << 28)

typedef struct {
	struct list_head list;
	unsigned long flags;		/* type, status, etc. */
	int offset;			/* offset of magic */
	int size;			/* size of magic/mask */
	char *magic;			/* magic or filename extension */
	char *mask;			/* mask, NULL for exact match */
	const char *interpreter;	/* filename of interpreter */
	char *name;
	struct dentry *dentry;
	struct file *interp_file;
	refcount_t users;		/* sync removal with load_misc_binary() */
} Node;

static void livepatch_put_binfmt_handler(Node *e)
{
	if (refcount_dec_and_test(&e->users)) {
		if (e->flags & MISC_FMT_OPEN_FILE) {
			allow_write_access(e->interp_file);
			filp_close(e->interp_file, NULL);
		}
		kfree(e);
	}
}

static struct klp_func funcs[] = {
	{
		.old_name = "put_binfmt_handler",
		.new_func = livepatch_put_binfmt_handler,
	},
	{ }
};

static struct klp_object objs[] = {
	{
		.name = "binfmt_misc",
		.funcs = funcs,
	},
	{ }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
	.replace = false,
};

static int __init livepatch_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit livepatch_exit(void)
{
}

module_init(livepatch_init);
module_exit(livepatch_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch: binfmt_misc restores interpreter write access");
MODULE_INFO(livepatch, "Y");

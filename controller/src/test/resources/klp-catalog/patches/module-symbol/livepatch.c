// SPDX-License-Identifier: GPL-2.0
/*
 * Test livepatch: bm_status_read() of the binfmt_misc module reading the module's static
 * variable "enabled" through a livepatch relocation of the binfmt_misc object.
 */
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/string.h>

extern int enabled;

static ssize_t livepatch_bm_status_read(struct file *file, char __user *buf, size_t nbytes, loff_t *ppos)
{
	char *s = enabled ? "enabled klp\n" : "disabled klp\n";

	return simple_read_from_buffer(buf, nbytes, ppos, s, strlen(s));
}

static struct klp_func funcs[] = {
	{ .old_name = "bm_status_read", .new_func = livepatch_bm_status_read, },
	{ }
};

static struct klp_object objs[] = {
	{ .name = "binfmt_misc", .funcs = funcs, },
	{ }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int livepatch_init(void)
{
	return klp_enable_patch(&patch);
}

static void livepatch_exit(void)
{
}

module_init(livepatch_init);
module_exit(livepatch_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");

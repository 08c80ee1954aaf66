// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in for a GPU driver, used only to crash test guests.
 *
 * Writing a command to /proc/nvidia_trigger makes the "driver" do one of:
 *   alloc_null  - vmalloc() an impossible push-buffer size without
 *                 __GFP_NOWARN (the kernel prints a real "vmalloc error"
 *                 report with Mem-Info), forget to check the result and
 *                 write through the NULL it got;
 *   dma_null    - allocate 4 MiB DMA rings (order-10 __get_free_pages with
 *                 __GFP_NORETRY, no __GFP_NOWARN) until one really fails
 *                 (a real "page allocation failure: order:10" report with
 *                 Mem-Info), then write through the 0 it got;
 *   null        - dereference a NULL channel pointer.
 * The module is named "nvidia" so that crash triage sees a GPU driver.
 */
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/string.h>

struct nv_pushbuf {
	u64 gpu_va;
	u32 size;
	u32 put;
	u32 words[];
};

struct nv_channel {
	int id;
	struct nv_pushbuf *pb;
};

/* Far beyond any guest's RAM, so the allocation really fails. */
static unsigned long nv_pushbuf_bytes = 64UL << 30;
module_param(nv_pushbuf_bytes, ulong, 0644);

static struct nv_channel *nv_channels[4];

static noinline struct nv_pushbuf *nv_alloc_pushbuf(unsigned long bytes)
{
	/* Deliberately no __GFP_NOWARN: the failure report is the evidence. */
	return vmalloc(bytes);
}

static noinline int nv_gpu_init_channel(int id)
{
	struct nv_pushbuf *pb = nv_alloc_pushbuf(nv_pushbuf_bytes);

	/* The bug under study: the NULL return is not checked. */
	WRITE_ONCE(pb->size, (u32)nv_pushbuf_bytes);
	WRITE_ONCE(pb->put, 0);
	pr_info("nvidia: channel %d push buffer at %px\n", id, pb);
	return 0;
}

static unsigned long nv_dma_rings[64];

static noinline int nv_alloc_dma_rings(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(nv_dma_rings); i++) {
		nv_dma_rings[i] = __get_free_pages(GFP_KERNEL | __GFP_NORETRY, 10);
		/* The bug: a failed allocation is used as if it had succeeded. */
		WRITE_ONCE(((struct nv_pushbuf *)nv_dma_rings[i])->put, 0);
	}
	return 0;
}

static noinline int nv_channel_kick(int id)
{
	struct nv_channel *ch = READ_ONCE(nv_channels[id]);

	/* Channel was never created: ch is NULL. */
	WRITE_ONCE(ch->pb->put, 1);
	return 0;
}

static ssize_t nv_trigger_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *off)
{
	char cmd[32] = {};

	if (len >= sizeof(cmd) || copy_from_user(cmd, ubuf, len))
		return -EINVAL;
	strim(cmd);
	pr_info("nvidia: trigger '%s'\n", cmd);
	if (!strcmp(cmd, "alloc_null"))
		nv_gpu_init_channel(1);
	else if (!strcmp(cmd, "dma_null"))
		nv_alloc_dma_rings();
	else if (!strcmp(cmd, "null"))
		nv_channel_kick(2);
	else
		return -EINVAL;
	return len;
}

static const struct proc_ops nv_trigger_ops = {
	.proc_write = nv_trigger_write,
};

static int __init nv_init(void)
{
	if (!proc_create("nvidia_trigger", 0200, NULL, &nv_trigger_ops))
		return -ENOMEM;
	pr_info("nvidia: test GPU driver loaded\n");
	return 0;
}

static void __exit nv_exit(void)
{
	remove_proc_entry("nvidia_trigger", NULL);
}

module_init(nv_init);
module_exit(nv_exit);
MODULE_LICENSE("NVIDIA");
MODULE_DESCRIPTION("triage test module posing as a GPU driver");

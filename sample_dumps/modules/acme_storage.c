// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in for a storage driver (not a GPU driver), used only to crash
 * test guests. Writing a command to /proc/acme_storage_trigger does one of:
 *   null        - dereference a NULL request queue pointer;
 *   bug         - BUG_ON() a corrupted request state;
 *   gpf         - dereference a non-canonical pointer (general protection fault);
 *   warn        - WARN() on a queue depth underflow (panics with panic_on_warn);
 *   softlockup  - spin forever holding a spinlock (soft lockup);
 *   hung        - wait uninterruptibly for an I/O completion that never comes.
 */
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/uaccess.h>
#include <linux/spinlock.h>
#include <linux/completion.h>
#include <linux/string.h>

struct acme_request {
	int tag;
	int state;
	void *data;
};

struct acme_queue {
	spinlock_t lock;
	int depth;
	struct acme_request *rqs[8];
};

static struct acme_queue acme_q;
static struct acme_queue *acme_hctx[2] = { &acme_q, NULL };
static DECLARE_COMPLETION(acme_io_done);
/* Non-canonical on x86_64: loading through it raises #GP, not #PF. */
static unsigned long acme_poison = 0xdead4ead00000000UL;
module_param(acme_poison, ulong, 0644);

static noinline int acme_submit_rq(int hw)
{
	struct acme_queue *q = READ_ONCE(acme_hctx[hw]);

	WRITE_ONCE(q->depth, q->depth + 1);
	return 0;
}

static noinline void acme_complete_rq(struct acme_request *rq)
{
	BUG_ON(rq->state != 1);
}

static noinline int acme_read_poisoned(void)
{
	struct acme_request *rq = (struct acme_request *)READ_ONCE(acme_poison);

	return READ_ONCE(rq->tag);
}

static noinline void acme_put_depth(void)
{
	acme_q.depth--;
	WARN(acme_q.depth < 0, "acme_storage: queue depth underflow (%d)\n",
	     acme_q.depth);
}

static noinline void acme_poll_hw(void)
{
	spin_lock(&acme_q.lock);
	for (;;)
		cpu_relax();
}

static noinline void acme_wait_io(void)
{
	wait_for_completion(&acme_io_done);
}

static ssize_t acme_trigger_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *off)
{
	static struct acme_request bad_rq = { .tag = 7, .state = 3 };
	char cmd[32] = {};

	if (len >= sizeof(cmd) || copy_from_user(cmd, ubuf, len))
		return -EINVAL;
	strim(cmd);
	pr_info("acme_storage: trigger '%s'\n", cmd);
	if (!strcmp(cmd, "null"))
		acme_submit_rq(1);
	else if (!strcmp(cmd, "bug"))
		acme_complete_rq(&bad_rq);
	else if (!strcmp(cmd, "gpf"))
		acme_read_poisoned();
	else if (!strcmp(cmd, "warn"))
		acme_put_depth();
	else if (!strcmp(cmd, "softlockup"))
		acme_poll_hw();
	else if (!strcmp(cmd, "hung"))
		acme_wait_io();
	else
		return -EINVAL;
	return len;
}

static const struct proc_ops acme_trigger_ops = {
	.proc_write = acme_trigger_write,
};

static int __init acme_init(void)
{
	spin_lock_init(&acme_q.lock);
	if (!proc_create("acme_storage_trigger", 0200, NULL, &acme_trigger_ops))
		return -ENOMEM;
	pr_info("acme_storage: test storage driver loaded\n");
	return 0;
}

static void __exit acme_exit(void)
{
	remove_proc_entry("acme_storage_trigger", NULL);
}

module_init(acme_init);
module_exit(acme_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("triage test module posing as a storage driver");

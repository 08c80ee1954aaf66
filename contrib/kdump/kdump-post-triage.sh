#!/bin/sh
# kdump_post hook for RHEL/CentOS/Fedora kdump (kexec-tools / kdump-utils).
#
# Runs in the capture kernel's initramfs after the dump was saved, with a small
# busybox/dracut shell, no Python and little memory: it only leaves a marker that
# the boot-time unit (triage-harvest.service / .path) picks up. kdump passes the
# exit status of the dump as $1.
#
# Install:  install -m 0755 kdump-post-triage.sh /usr/local/sbin/kdump-post-triage.sh
#           echo 'kdump_post /usr/local/sbin/kdump-post-triage.sh' >> /etc/kdump.conf
#           kdumpctl rebuild   (or: systemctl restart kdump)
#
# The dump target is mounted under /sysroot (dump to the root file system) or
# /kdumproot (another local target) while kdump runs; KDUMP_PATH is kdump.conf's
# "path" (default /var/crash). Adjust CRASHDIR if you dump elsewhere (KDUMP_ROOTS
# overrides the mount points searched, for testing).
CRASHDIR=${KDUMP_PATH:-/var/crash}
status=${1:-unknown}
for root in ${KDUMP_ROOTS:-/sysroot /kdumproot}; do
    dir="$root$CRASHDIR"
    if [ -d "$dir" ]; then
        # one short line; never fail the dump because of us
        echo "kdump-status=$status" > "$dir/.triage-pending" 2>/dev/null || true
        sync
    fi
done
exit 0

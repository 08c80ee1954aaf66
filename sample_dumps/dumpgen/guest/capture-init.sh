#!/bin/busybox sh
# init of the kdump capture kernel: save the crashed kernel's memory the way
# RHEL's kdump does (var/crash/<ip>-<date>/vmcore + vmcore-dmesg.txt) and hand
# the files to the host as a tar archive written straight onto /dev/vda.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk; do
  [ -f /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
if [ ! -b /dev/vda ]; then
  echo "triage-capture: FAILED: no /dev/vda"
  poweroff -f
fi
cd /out
d=var/crash/127.0.0.1-$(date +%Y-%m-%d-%H:%M:%S)
mkdir -p $d
echo "triage-capture: writing $d"
if vmcore-dmesg /proc/vmcore > $d/vmcore-dmesg-incomplete.txt 2> vmcore-dmesg.err; then
  mv $d/vmcore-dmesg-incomplete.txt $d/vmcore-dmesg.txt
fi
makedumpfile -l --message-level 7 -d 31 /proc/vmcore $d/vmcore-incomplete > makedumpfile.log 2>&1
echo "makedumpfile exit $?" >> makedumpfile.log
[ -s $d/vmcore-incomplete ] && mv $d/vmcore-incomplete $d/vmcore
# Second copy as ELF (-E), streamed in makedumpfile's flattened form onto
# /dev/vdb; the host rearranges it with makedumpfile -R.
if [ -b /dev/vdb ]; then
  makedumpfile -F -E -d 31 /proc/vmcore > /dev/vdb 2> makedumpfile-elf.log
  echo "makedumpfile -F -E exit $?" >> makedumpfile-elf.log
fi
dmesg > $d/kexec-dmesg.log
tar -cf /dev/vda var makedumpfile*.log vmcore-dmesg.err
sync
echo "triage-capture: done"
poweroff -f

#!/bin/busybox sh
# init of the crashing guest: load the test modules, optionally arm kdump,
# then run the scenario named by triage.scenario= on the kernel command line.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
insmod /lib/modules/qemu_fw_cfg.ko
insmod /lib/modules/nvidia.ko
insmod /lib/modules/acme_storage.ko
ip link set lo up 2>/dev/null
# The kernel keeps its own copy of loaded modules: free the tmpfs pages.
rm -f /lib/modules/*.ko
scenario=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    triage.scenario=*) scenario=${arg#triage.scenario=} ;;
    triage.kdump=1) kdump=1 ;;
    console=*) console=${arg%%,*} ;;
  esac
done
if [ -n "$kdump" ]; then
  append="$console,115200 ignore_loglevel irqpoll nr_cpus=1 reset_devices panic=1 triage.capture=1"
  # arm64: kexec-tools 2.0.25 computes PAGE_OFFSET for the crash ELF header
  # from _text in /proc/kallsyms, which Debian's 6.1 arm64 kernel does not list
  # ("Can't get the symbol of _text": the header's linear-map PT_LOADs are then
  # wrong and makedumpfile/vmcore-dmesg cannot read /proc/vmcore). _text is
  # _stext - 64K (the image header) and KASLR moves the image in 2M steps, so
  # add that one line to a copy of kallsyms bound over the original.
  echo 0 > /proc/sys/kernel/kptr_restrict
  if ! grep -qw _text /proc/kallsyms; then
    stext=$(grep -w _stext /proc/kallsyms | cut -d' ' -f1)
    case "$stext" in
      *10000)
        cat /proc/kallsyms > /tmp/kallsyms
        echo "${stext%10000}00000 T _text" >> /tmp/kallsyms
        mount --bind /tmp/kallsyms /proc/kallsyms
        echo "triage-gen: added _text ${stext%10000}00000 (from _stext $stext) to kallsyms for kexec" ;;
    esac
  fi
  # kexec_file_load first (what current RHEL kdump uses), then kexec_load.
  kexec -s -p /boot/vmlinuz --initrd=/boot/capture.img --append="$append" ||
    kexec -p /boot/vmlinuz --initrd=/boot/capture.img --append="$append"
  if [ "$(cat /sys/kernel/kexec_crash_loaded)" != 1 ]; then
    echo "triage-gen: kdump NOT armed"
    poweroff -f
  fi
  echo "triage-gen: kdump armed"
  # kexec copied what it needs into the crashkernel region; drop the files so
  # their pages are free (and filtered out of the dump) rather than tmpfs data.
  rm -rf /boot /lib/x86_64-linux-gnu /lib/aarch64-linux-gnu /lib/ld-linux-aarch64.so.1 /lib64 \
    /bin/kexec /sbin/kexec /usr
fi
case "$scenario" in oom*) ;; *) rm -f /bin/hog ;; esac
echo "triage-gen: scenario=$scenario start"
sleep 1
case "$scenario" in
@SCENARIO_CASES@
  *) echo "triage-gen: unknown scenario '$scenario'" ;;
esac
echo "triage-gen: scenario returned, idling"
while true; do sleep 60; done

#!/usr/bin/env bash
# PID 1 of a throw-away systemd "container" made of namespaces (used by
# test/support/systemdContainer.ts; see docs/hardening.md "systemd restarts Lateral").
#
#   unshare --pid --fork --kill-child --mount --cgroup --net --uts --ipc systemdBoot.sh ROOT REPO
#
# Runs as PID 1 of fresh pid/mount/net/uts/ipc/cgroup namespaces (the caller moved it into its
# own cgroup first, so the cgroup namespace's root is that cgroup). It turns ROOT (a staging
# directory holding etc/ and var/) into the root file system:
#   /usr          the host's /usr, read-only (Debian 12 is merged-/usr: /bin /lib /sbin are links)
#   /opt/lateral  the repository, read-only (the unit's paths stay as shipped)
#   /proc /sys    new instances: they show this pid and network namespace only
#   /sys/fs/cgroup  cgroup2 of the cgroup namespace: systemd's own subtree, nothing above it
#   /dev          a tmpfs with the few host device nodes a service needs, bound one by one
#   /run /tmp     tmpfs, as systemd expects in a container
# then pivots into it and execs systemd. Nothing is mounted in the host's mount namespace:
# all mounts die with this one when PID 1 exits.
set -euo pipefail
root=$1
repo=$2

mount --make-rprivate /
mount --bind "$root" "$root"
mkdir -p "$root"/{usr,opt/lateral,proc,sys,dev,run,tmp,var/tmp,var/log,var/lib,root,oldroot}
ln -sfn usr/bin "$root/bin"; ln -sfn usr/sbin "$root/sbin"
ln -sfn usr/lib "$root/lib"; ln -sfn usr/lib64 "$root/lib64"
mount --bind /usr "$root/usr"; mount -o remount,bind,ro "$root/usr"
mount --bind "$repo" "$root/opt/lateral"; mount -o remount,bind,ro "$root/opt/lateral"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t sysfs -o nosuid,nodev,noexec sysfs "$root/sys"
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$root/sys/fs/cgroup"
mount -t tmpfs -o mode=755,nosuid,size=16m tmpfs "$root/dev"
for d in null zero full random urandom tty; do
  touch "$root/dev/$d"; mount --bind "/dev/$d" "$root/dev/$d"
done
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$root/dev/pts"
ln -sfn pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
ln -sfn /proc/self/fd "$root/dev/fd"
ln -sfn /proc/self/fd/0 "$root/dev/stdin"; ln -sfn /proc/self/fd/1 "$root/dev/stdout"; ln -sfn /proc/self/fd/2 "$root/dev/stderr"
mount -t tmpfs -o mode=755,nosuid,nodev,size=64m tmpfs "$root/run"
mount -t tmpfs -o mode=1777,nosuid,nodev,size=64m tmpfs "$root/tmp"
hostname lateral-systemd

cd "$root"
pivot_root . oldroot
umount -l /oldroot
rmdir /oldroot
# container=: systemd's own convention for "you are PID 1 of a container" (skips hardware,
# consoles and the like; systemd-detect-virt says "container-other").
exec env -i container=lateral-test PATH=/usr/sbin:/usr/bin /lib/systemd/systemd --show-status=no

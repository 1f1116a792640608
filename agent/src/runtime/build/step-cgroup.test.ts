import { stepCgroupParent } from './step-cgroup.js';

// /proc/PID/cgroup of a container on a cgroup v1 engine started with --cgroup-parent /machine-a.
const V1 = [
  '12:pids:/machine-a/0123abcd',
  '11:cpu,cpuacct:/machine-a/0123abcd',
  '10:memory:/machine-a/0123abcd',
  '1:name=systemd:/machine-a/0123abcd',
  '0::/system.slice/containerd.service',
].join('\n');

describe("a build's RUN steps' cgroup parent", () => {
  it("is the build pod's container's own cgroup on cgroup v1 with the cgroupfs driver", () => {
    expect(stepCgroupParent(V1, { CgroupDriver: 'cgroupfs', CgroupVersion: '1' })).toBe('/machine-a/0123abcd');
    // Engines older than the CgroupVersion field ran on v1 only.
    expect(stepCgroupParent(V1, { CgroupDriver: 'cgroupfs' })).toBe('/machine-a/0123abcd');
  });

  it('is none where a container cannot have child cgroups: the systemd driver, cgroup v2', () => {
    expect(stepCgroupParent('12:pids:/system.slice/docker-0123abcd.scope', { CgroupDriver: 'systemd', CgroupVersion: '1' })).toBeUndefined();
    expect(stepCgroupParent('0::/docker/0123abcd', { CgroupDriver: 'cgroupfs', CgroupVersion: '2' })).toBeUndefined();
  });

  it('is none when the container\'s cgroup cannot be read or is the root', () => {
    expect(stepCgroupParent('', { CgroupDriver: 'cgroupfs', CgroupVersion: '1' })).toBeUndefined();
    expect(stepCgroupParent('12:pids:/', { CgroupDriver: 'cgroupfs', CgroupVersion: '1' })).toBeUndefined();
    expect(stepCgroupParent('10:memory:/docker/x', { CgroupDriver: 'cgroupfs', CgroupVersion: '1' })).toBeUndefined();
  });
});

import { acceptedHostKeyLine, explain, fetchEnv, fetchUser, privateFiles, secretsOf } from './git.js';

const user = { uid: 65534, gid: 65534 };

describe('the fetch container', () => {
  test('never runs as root: root agents use nobody, others their own user', () => {
    expect(fetchUser(0, 0)).toEqual({ uid: 65534, gid: 65534 });
    expect(fetchUser(1000, 1000)).toEqual({ uid: 1000, gid: 1000 });
  });

  test('a token reaches git only as a file of its private folder, never in its environment', () => {
    const credentials = { username: 'deploy', password: 'tok3n' };
    const files = privateFiles(credentials, user, undefined);
    expect(files.gitconfig).toContain(`extraHeader = Authorization: Basic ${Buffer.from('deploy:tok3n').toString('base64')}`);
    const env = fetchEnv(files).join('\n');
    for (const secret of secretsOf(credentials)) expect(env).not.toContain(secret);
    expect(env).toContain('GIT_CONFIG_GLOBAL=/run/lattice-git/gitconfig');
    expect(env).toContain('GIT_TERMINAL_PROMPT=0');
  });

  test('a token without a username is sent as git\'s, and that header is masked in the log too', () => {
    const header = Buffer.from('git:tok3n').toString('base64');
    expect(privateFiles({ password: 'tok3n' }, user, undefined).gitconfig).toContain(`Basic ${header}`);
    expect(secretsOf({ password: 'tok3n' })).toContain(header);
  });

  test('an ssh key is a file that ssh is pointed at; a passwd line names the user ssh runs as', () => {
    const files = privateFiles({ sshPrivateKey: '-----BEGIN KEY-----' }, user, undefined);
    expect(files.id).toBe('-----BEGIN KEY-----\n');
    expect(files.passwd).toBe('lattice:x:65534:65534:lattice:/tmp:/usr/sbin/nologin\n');
    const env = fetchEnv(files).join('\n');
    expect(env).toContain('-i /run/lattice-git/id -o IdentitiesOnly=yes');
    expect(env).not.toContain('BEGIN KEY');
  });

  test("the provider's CA is trusted when it has one", () => {
    expect(fetchEnv(privateFiles(undefined, user, 'PEM'))).toContain('GIT_SSL_CAINFO=/run/lattice-git/ca.pem');
    expect(fetchEnv(privateFiles(undefined, user, undefined)).join('\n')).not.toContain('GIT_SSL_CAINFO');
  });
});

describe("the ssh server's host key", () => {
  const ssh = (credentials: Parameters<typeof privateFiles>[0]) => fetchEnv(privateFiles(credentials, user, undefined)).find((v) => v.startsWith('GIT_SSH_COMMAND='))!;

  test("with the Secret's known_hosts, ssh checks strictly against exactly those keys", () => {
    const knownHosts = '[git.example.net]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPinned';
    const files = privateFiles({ sshPrivateKey: 'KEY', knownHosts }, user, undefined);
    expect(files.known_hosts).toBe(`${knownHosts}\n`);
    const command = ssh({ sshPrivateKey: 'KEY', knownHosts });
    expect(command).toContain('-o StrictHostKeyChecking=yes -o UserKnownHostsFile=/run/lattice-git/known_hosts');
    expect(command).toContain('-o GlobalKnownHostsFile=/dev/null');
    expect(command).not.toContain('accept-new');
  });

  test('without known_hosts (or with an empty one), a new host key is accepted on first use and kept readable to show its fingerprint', () => {
    for (const credentials of [{ sshPrivateKey: 'KEY' }, { sshPrivateKey: 'KEY', knownHosts: ' \n' }, undefined]) {
      const command = ssh(credentials);
      expect(command).toContain('-o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=/tmp/known_hosts -o HashKnownHosts=no');
      expect(command).not.toContain('StrictHostKeyChecking=yes');
    }
  });

  test('the build log names the host and the fingerprint accepted on first use, and says how to pin it', () => {
    const line = acceptedHostKeyLine('accepted-host-key 256 SHA256:wG2039/APYJroKRm/AmcCxYSlsVTY/8KxaGLjsr2kEQ [10.1.0.1]:2222 (ED25519)');
    expect(line).toContain('the host key of [10.1.0.1]:2222 was accepted on first use');
    expect(line).toContain('ED25519 SHA256:wG2039/APYJroKRm/AmcCxYSlsVTY/8KxaGLjsr2kEQ');
    expect(line).toContain('as known_hosts');
    // The commit SHA and git's other output are not host keys.
    expect(acceptedHostKeyLine('0349f8465b1a765c53fbee14372d5f4e66216cf9')).toBeUndefined();
  });

  test("a key other than the pinned one is reported as not matching, with the key the server sent; a host not pinned at all, as missing", () => {
    // What ssh 9 and git print for each.
    const changed = [
      '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
      'The fingerprint for the ED25519 key sent by the remote host is',
      'SHA256:wG2039/APYJroKRm/AmcCxYSlsVTY/8KxaGLjsr2kEQ.',
      'Host key for [10.1.0.1]:2222 has changed and you have requested strict checking.',
      'Host key verification failed.',
      'fatal: Could not read from remote repository.',
      '',
      'Please make sure you have the correct access rights',
      'and the repository exists.',
    ].join('\n');
    expect(explain(changed, 128)).toMatch(/^Host key verification failed: the git server's host key \(SHA256:wG2039\/APYJroKRm\/AmcCxYSlsVTY\/8KxaGLjsr2kEQ\) did not match the known_hosts/);
    expect(explain(changed, 128)).toContain('man in the middle');
    const unknown = 'No ED25519 host key is known for [10.1.0.1]:2222 and you have requested strict checking.\nHost key verification failed.\nfatal: Could not read from remote repository.';
    expect(explain(unknown, 128)).toContain('the git server has no key in the known_hosts');
  });
});

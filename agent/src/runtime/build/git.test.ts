import { fetchEnv, fetchUser, privateFiles, secretsOf } from './git.js';

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

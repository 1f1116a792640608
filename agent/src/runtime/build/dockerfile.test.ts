import { BuildRequestSchema, type BuildRequest } from '@lattice/protocol';
import { BuildConfigError, checkDockerfile, dockerfileFor, type ProjectFacts } from './dockerfile.js';
import { procfileWeb } from './project.js';

const request = (strategy: BuildRequest['strategy'], more: Partial<BuildRequest> = {}): BuildRequest =>
  BuildRequestSchema.parse({
    url: 'https://git.example/app.git',
    ref: 'main',
    strategy,
    port: 3000,
    repository: '127.0.0.1:5001/builds/ns/app',
    baseImages: '127.0.0.1:5001/lattice',
    ...more,
  });

const facts = (more: Partial<ProjectFacts> = {}): ProjectFacts => ({
  npmLockfile: false,
  requirementsTxt: false,
  pyprojectToml: false,
  pythonFiles: [],
  ...more,
});

const content = (r: BuildRequest, f: ProjectFacts) => dockerfileFor(r, f).content!;

describe('node', () => {
  test('npm ci with a lockfile, the build script when there is one, npm start when there is one', () => {
    const file = content(request('node'), facts({ npmLockfile: true, packageJson: { scripts: { build: 'tsc', start: 'node dist/server.js' } } }));
    expect(file).toContain('FROM 127.0.0.1:5001/lattice/node:18');
    expect(file.indexOf('COPY package*.json ./')).toBeLessThan(file.indexOf('RUN npm ci'));
    expect(file.indexOf('RUN npm ci')).toBeLessThan(file.indexOf('COPY . .'));
    expect(file).toContain('RUN npm run build');
    expect(file).toContain('CMD ["/bin/sh","-c","npm start"]');
    expect(file).toContain('ENV PORT=3000');
  });

  test('npm install without a lockfile, no build step without a build script, node <main> without a start script', () => {
    const file = content(request('node'), facts({ packageJson: { main: 'server.js' } }));
    expect(file).toContain('RUN npm install --no-audit --no-fund');
    expect(file).not.toContain('npm run build');
    expect(file).toContain('"node server.js"');
  });

  test('every default is overridden by the spec', () => {
    const file = content(
      request('node', { installCommand: 'npm i --omit=dev', buildCommand: 'make', startCommand: 'node x.js' }),
      facts({ npmLockfile: true, packageJson: { scripts: { build: 'tsc', start: 'y' } } }),
    );
    expect(file).toContain('RUN npm i --omit=dev');
    expect(file).toContain('RUN make');
    expect(file).toContain('"node x.js"');
    expect(file).not.toMatch(/npm ci|npm run build|npm start/);
  });

  test('without a package.json the build says what is missing', () => {
    expect(() => dockerfileFor(request('node'), facts())).toThrow(BuildConfigError);
    expect(() => dockerfileFor(request('node'), facts())).toThrow(/package\.json/);
  });
});

describe('python', () => {
  test('requirements.txt installed in a venv before the code is copied; the app file is started', () => {
    const file = content(request('python'), facts({ requirementsTxt: true, pythonFiles: ['app.py', 'util.py'] }));
    expect(file).toContain('FROM 127.0.0.1:5001/lattice/python:3.11');
    expect(file).toContain('RUN python3 -m venv /venv');
    expect(file.indexOf('RUN pip install -r requirements.txt')).toBeLessThan(file.indexOf('COPY . .'));
    expect(file).toContain('"python app.py"');
  });

  test('a pyproject is installed with the code; the Procfile web command wins over app files', () => {
    const file = content(request('python'), facts({ pyprojectToml: true, procfileWeb: 'gunicorn app:app', pythonFiles: ['app.py'] }));
    expect(file.indexOf('COPY . .')).toBeLessThan(file.indexOf('RUN pip install .'));
    expect(file).toContain('"gunicorn app:app"');
  });

  test('no way to start it is an error that says what to add', () => {
    expect(() => dockerfileFor(request('python'), facts())).toThrow(/Procfile|startCommand/);
  });
});

describe('static', () => {
  test('served as it is by busybox httpd on the port', () => {
    const file = content(request('static'), facts());
    expect(file).toContain('FROM 127.0.0.1:5001/lattice/busybox:1');
    expect(file).toContain('COPY . /site');
    expect(file).toContain('httpd -f -v -p 3000 -h /site');
    expect(file).not.toContain('node:18');
  });

  test('with a build script: built in a node stage, its output directory served', () => {
    const file = content(request('static'), facts({ packageJson: { scripts: { build: 'vite build' } } }));
    expect(file).toContain('FROM 127.0.0.1:5001/lattice/node:18 AS build');
    expect(file).toContain('RUN npm run build');
    expect(file).toContain('[ -d dist ]');
    expect(file).toContain('COPY --from=build /site /site');
  });
});

test('every generated image starts its command under tini, so SIGTERM stops the app instead of the grace period', () => {
  const files = [
    content(request('node'), facts({ packageJson: {} })),
    content(request('python'), facts({ pythonFiles: ['app.py'] })),
    content(request('static'), facts()),
    content(request('static'), facts({ packageJson: { scripts: { build: 'vite build' } } })),
  ];
  for (const file of files) {
    // The last stage's entrypoint, right before its command.
    expect(file.trimEnd().split('\n').slice(-2)).toEqual(['ENTRYPOINT ["tini", "-g", "--"]', expect.stringMatching(/^CMD \["\/bin\/sh","-c",/)]);
  }
});

test("strategy dockerfile uses the repository's own, at the path the spec gives", () => {
  expect(dockerfileFor(request('dockerfile'), facts())).toEqual({ path: 'Dockerfile' });
  expect(dockerfileFor(request('dockerfile', { dockerfile: 'deploy/Dockerfile' }), facts())).toEqual({ path: 'deploy/Dockerfile' });
});

test('the Procfile web line', () => {
  expect(procfileWeb('worker: x\nweb: python app.py\n')).toBe('python app.py');
  expect(procfileWeb('worker: x')).toBeUndefined();
  expect(procfileWeb(undefined)).toBeUndefined();
});

describe("a repository's own Dockerfile", () => {
  const check = (text: string) => () => checkDockerfile(text, 'Dockerfile');

  test.each([
    ['a URL', 'FROM x\nADD https://169.254.169.254/latest/meta-data/ /m\n'],
    ['a URL after flags', 'FROM x\nADD --chown=1:1 --checksum=sha256:0 HTTP://router.lan/admin /a\n'],
    ['a URL in JSON form', 'FROM x\nADD ["http://10.0.0.1/secret", "/s"]\n'],
    ['a URL on a continued line', 'FROM x\nADD a \\\n  ftp://nas.lan/backup /b\n'],
    ['a Git remote', 'FROM x\nadd git@github.com:org/private.git /src\n'],
  ])('may not ADD %s: the provider would fetch it on its own network', (_what, text) => {
    expect(check(text)).toThrow(BuildConfigError);
    expect(check(text)).toThrow(/fetch it in a RUN step/);
  });

  test('says on which line', () => {
    expect(check('FROM x\nRUN true\nADD https://x/y /y\n')).toThrow(/^Dockerfile line 3: ADD https:\/\/x\/y/);
  });

  test('may ADD and COPY files of the repository, and fetch in RUN steps', () => {
    expect(check('FROM x\nADD app.tar.gz /app\nADD ["a b", "/c"]\nCOPY --from=build /out /srv\nRUN curl -fsSL https://example.com/x -o /x\n')).not.toThrow();
  });
});

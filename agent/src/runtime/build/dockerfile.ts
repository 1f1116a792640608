// The Dockerfile of a build: for strategy dockerfile the repository's own, otherwise one written
// here from what the project holds, with the defaults a user of Render or Heroku expects. Every
// default (install, build, start) is replaced by the spec's command when it gives one. Pure: what
// the project holds is read beforehand (see project.ts), so every rule is unit-tested.
import { DockerfileParser, type JSONInstruction } from 'dockerfile-ast';
import type { BuildRequest } from '@lattice/protocol';

/** What a build looks at in the context directory. */
export interface ProjectFacts {
  /** package.json, parsed (absent: no package.json). */
  packageJson?: { scripts?: Record<string, string>; main?: string };
  /** package-lock.json exists: `npm ci` installs exactly it. */
  npmLockfile: boolean;
  requirementsTxt: boolean;
  pyprojectToml: boolean;
  /** The command of the Procfile's web process. */
  procfileWeb?: string;
  /** Python files at the top of the context, e.g. app.py, main.py. */
  pythonFiles: string[];
}

/** The project cannot be built as asked; the message says what to change. */
export class BuildConfigError extends Error {}

/** Where the generated Dockerfile is written in the context (the user's own is never overwritten). */
export const GENERATED_DOCKERFILE = '.lattice.Dockerfile';

// npm would try the registry for its audit and funding notices: noise, and a wait without network.
const NPM_FLAGS = '--no-audit --no-fund';
/** Directories a static site's build usually writes to, in the order they are looked for. */
const STATIC_OUTPUT_DIRS = ['dist', 'build', 'public', 'out', '_site'];

/** A shell command as a JSON exec-form CMD, so it runs the same whatever the base image's shell. */
const shellCmd = (command: string) => `CMD ${JSON.stringify(['/bin/sh', '-c', command])}`;

/**
 * The start command runs under tini (in every base image a build starts from, see hack/images),
 * which passes signals to the whole process group. Run as PID 1 itself, a shell, node or httpd
 * would ignore SIGTERM, and every rollout or deletion would wait out the grace period.
 */
const INIT = 'ENTRYPOINT ["tini", "-g", "--"]';

function nodeInstall(request: BuildRequest, facts: ProjectFacts): string | undefined {
  if (request.installCommand) return request.installCommand;
  if (!facts.packageJson) return undefined;
  return facts.npmLockfile ? `npm ci ${NPM_FLAGS}` : `npm install ${NPM_FLAGS}`;
}

function nodeBuild(request: BuildRequest, facts: ProjectFacts): string | undefined {
  return request.buildCommand ?? (facts.packageJson?.scripts?.build ? 'npm run build' : undefined);
}

function nodeDockerfile(request: BuildRequest, facts: ProjectFacts): string {
  if (!facts.packageJson && !request.installCommand) {
    throw new BuildConfigError('strategy node needs a package.json in the context directory (or spec.build.installCommand)');
  }
  const install = nodeInstall(request, facts);
  const build = nodeBuild(request, facts);
  const start =
    request.startCommand ?? (facts.packageJson?.scripts?.start ? 'npm start' : `node ${facts.packageJson?.main ?? 'index.js'}`);
  return lines(
    `FROM ${request.baseImages}/node:18`,
    'WORKDIR /app',
    // Manifests first: the install layer stays cached while only the code changes.
    facts.packageJson && 'COPY package*.json ./',
    install && `RUN ${install}`,
    'COPY . .',
    build && `RUN ${build}`,
    `ENV PORT=${request.port} NODE_ENV=production`,
    `EXPOSE ${request.port}`,
    INIT,
    shellCmd(start),
  );
}

function pythonStart(request: BuildRequest, facts: ProjectFacts): string {
  if (request.startCommand) return request.startCommand;
  if (facts.procfileWeb) return facts.procfileWeb;
  const entry = ['app.py', 'main.py', 'server.py'].find((f) => facts.pythonFiles.includes(f));
  if (entry) return `python ${entry}`;
  throw new BuildConfigError(
    'strategy python found no start command: add a Procfile with a web: line, an app.py or main.py, or set spec.build.startCommand',
  );
}

function pythonDockerfile(request: BuildRequest, facts: ProjectFacts): string {
  const start = pythonStart(request, facts);
  // Requirements install before the code is copied (a cached layer); a pyproject needs the code.
  const early = request.installCommand ? undefined : facts.requirementsTxt ? 'pip install -r requirements.txt' : undefined;
  const late = request.installCommand ?? (!facts.requirementsTxt && facts.pyprojectToml ? 'pip install .' : undefined);
  return lines(
    `FROM ${request.baseImages}/python:3.11`,
    'WORKDIR /app',
    // Debian's Python refuses system-wide pip installs (PEP 668): the app gets its own venv.
    'RUN python3 -m venv /venv',
    'ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1',
    early && 'COPY requirements.txt ./',
    early && `RUN ${early}`,
    'COPY . .',
    late && `RUN ${late}`,
    request.buildCommand && `RUN ${request.buildCommand}`,
    `ENV PORT=${request.port}`,
    `EXPOSE ${request.port}`,
    INIT,
    shellCmd(start),
  );
}

/**
 * A static site: served as it is, or built first (a build command, or a package.json with a build
 * script) in a Node.js stage whose output directory is served. The server is busybox httpd.
 */
function staticDockerfile(request: BuildRequest, facts: ProjectFacts): string {
  const build = nodeBuild(request, facts);
  const start = request.startCommand ?? `httpd -f -v -p ${request.port} -h /site`;
  const serve = [`FROM ${request.baseImages}/busybox:1`, `EXPOSE ${request.port}`, INIT, shellCmd(start)];
  if (!build) return lines(serve[0], 'COPY . /site', ...serve.slice(1));
  const install = nodeInstall(request, facts);
  const pick = STATIC_OUTPUT_DIRS.map((d) => `[ -d ${d} ] && cp -r ${d}/. /site/ && echo "serving ${d}/" && exit 0`).join('; ');
  return lines(
    `FROM ${request.baseImages}/node:18 AS build`,
    'WORKDIR /src',
    'COPY . .',
    install && `RUN ${install}`,
    `RUN ${build}`,
    `RUN mkdir /site && sh -c '${pick}; cp -r . /site/ && echo "serving the whole directory"'`,
    serve[0],
    'COPY --from=build /site /site',
    ...serve.slice(1),
  );
}

/**
 * The Dockerfile to build with and its path in the context: the user's own for strategy
 * dockerfile (`content` undefined), else the generated one.
 */
export function dockerfileFor(request: BuildRequest, facts: ProjectFacts): { path: string; content?: string } {
  switch (request.strategy) {
    case 'dockerfile':
      return { path: request.dockerfile ?? 'Dockerfile' };
    case 'node':
      return { path: GENERATED_DOCKERFILE, content: nodeDockerfile(request, facts) };
    case 'python':
      return { path: GENERATED_DOCKERFILE, content: pythonDockerfile(request, facts) };
    case 'static':
      return { path: GENERATED_DOCKERFILE, content: staticDockerfile(request, facts) };
  }
}

/** A source Docker would fetch itself: a URL (ADD https://…) or a Git remote (ADD git@…). */
const REMOTE_SOURCE = /^([a-z][a-z0-9+.-]*:\/\/|git@)/i;

/**
 * Refuses what a repository's own Dockerfile may not do on a provider. `ADD <url>` is fetched by
 * the provider's Docker engine itself, on the provider's own network (its router, its LAN, its
 * cloud's metadata service), not in the build's isolated network as RUN steps are.
 */
export function checkDockerfile(text: string, file: string): void {
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    if (instruction.getKeyword() !== 'ADD') continue;
    const json = (instruction as JSONInstruction).getJSONStrings();
    const args = json.length ? json.map((s) => s.getJSONValue()) : instruction.getArguments().map((a) => a.getValue());
    const remote = args.slice(0, -1).find((source) => REMOTE_SOURCE.test(source));
    if (remote) {
      throw new BuildConfigError(
        `${file} line ${instruction.getRange().start.line + 1}: ADD ${remote} would be fetched by the provider's Docker engine on the provider's own network; ` +
          'fetch it in a RUN step (curl, wget, git clone), which runs in the build\'s network, or commit the file to the repository',
      );
    }
  }
}

function lines(...parts: (string | undefined)[]): string {
  return `${parts.filter((p): p is string => !!p).join('\n')}\n`;
}

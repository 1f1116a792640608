// Sample apps built from Git by the build suite and the build benchmark. No external npm or pip
// dependency: containers have no internet.

/** A Node.js app with a build script (writes dist/message.txt) that serves the message on $PORT. */
export function nodeApp(message: string, build = 'node build.js'): Record<string, string> {
  return {
    'package.json': JSON.stringify({ name: 'node-sample', version: '1.0.0', private: true, scripts: { build, start: 'node server.js' } }, null, 2),
    'package-lock.json': JSON.stringify({ name: 'node-sample', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'node-sample', version: '1.0.0' } } }, null, 2),
    'build.js': `const fs = require('fs');\nfs.mkdirSync('dist', { recursive: true });\nfs.writeFileSync('dist/message.txt', ${JSON.stringify(message)});\nconsole.log('build: wrote dist/message.txt');\n`,
    'server.js':
      "const http = require('http');\nconst fs = require('fs');\nconst body = fs.readFileSync('dist/message.txt', 'utf8');\n" +
      "http.createServer((req, res) => res.end(body)).listen(process.env.PORT, () => console.log('listening on', process.env.PORT));\n",
  };
}

export const pythonApp = (message: string): Record<string, string> => ({
  'requirements.txt': '# no dependencies\n',
  'app.py':
    'import os\nfrom http.server import BaseHTTPRequestHandler, HTTPServer\n\n' +
    'class Handler(BaseHTTPRequestHandler):\n    def do_GET(self):\n        self.send_response(200)\n        self.end_headers()\n' +
    `        self.wfile.write(${JSON.stringify(message)}.encode())\n\n` +
    "HTTPServer(('', int(os.environ['PORT'])), Handler).serve_forever()\n",
});

export const staticSite = (message: string): Record<string, string> => ({
  'index.html': `<!doctype html><title>static</title><p>${message}</p>\n`,
});

export const dockerfileApp = (message: string, port: number, busybox: string): Record<string, string> => ({
  Dockerfile: `FROM ${busybox}\nRUN mkdir /www && echo '${message}' > /www/index.html\nCMD ["httpd", "-f", "-p", "${port}", "-h", "/www"]\n`,
});

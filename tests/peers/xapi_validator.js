// Validate xAPI statements with Learning Locker's @learninglocker/xapi-validation (MIT).
// stdin: a JSON array of statements. stdout: a JSON array, one list of warnings per statement,
// each warning {path, name, message}. Exit 2 on unreadable input. Run by xapi_validator.py with
// NODE_PATH pointing at the package installed under <repo>/.peers/xapi-validator/.
'use strict';

const validate = require('@learninglocker/xapi-validation').default;

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  let statements;
  try {
    statements = JSON.parse(input);
  } catch (error) {
    process.stderr.write(`not JSON: ${error.message}\n`);
    process.exit(2);
  }
  if (!Array.isArray(statements)) {
    process.stderr.write('expected a JSON array of statements\n');
    process.exit(2);
  }
  const report = statements.map((statement) => validate(statement).map((warning) => ({
    path: (warning.path || []).join('.'),
    name: warning.name,
    message: warning.message,
  })));
  process.stdout.write(JSON.stringify(report));
});

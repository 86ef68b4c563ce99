// Validates every document of deploy/kubernetes/*.yaml against the official Kubernetes
// OpenAPI schemas, as the kubernetes-models package (pinned in package-lock.json) compiles
// them: each object becomes its model class (`new Deployment(obj)`) and `validate()` checks
// types, required fields, enums and formats. Run tests/deploy/install.sh first.
// (Unknown fields pass: the compiled schemas allow them; check_manifests.py covers structure.)
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let parseAllDocuments;
try {
  ({ parseAllDocuments } = await import("yaml"));
  await import("kubernetes-models/v1");
} catch {
  console.error("tests/deploy/node_modules is missing: run tests/deploy/install.sh (make test does)");
  process.exit(1);
}

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "deploy", "kubernetes");

// "v1" -> kubernetes-models/v1, "apps/v1" -> kubernetes-models/apps/v1
async function modelClass(apiVersion, kind) {
  if (typeof apiVersion !== "string" || !/^[a-z0-9.]+(\/[a-z0-9]+)?$/.test(apiVersion)) {
    throw new Error(`unusable apiVersion ${JSON.stringify(apiVersion)}`);
  }
  let models;
  try {
    models = await import(`kubernetes-models/${apiVersion}`);
  } catch {
    throw new Error(`apiVersion ${apiVersion} is not a Kubernetes API group/version`);
  }
  const cls = models[kind];
  if (typeof cls !== "function" || cls.kind !== kind) {
    throw new Error(`kind ${JSON.stringify(kind)} does not exist in ${apiVersion}`);
  }
  return cls;
}

const problems = [];
let checked = 0;
const files = readdirSync(root).filter((f) => f.endsWith(".yaml")).sort();
if (files.length === 0) problems.push(`no manifests in ${root}`);
for (const file of files) {
  const docs = parseAllDocuments(readFileSync(join(root, file), "utf8"));
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      problems.push(`${file}: not YAML: ${doc.errors[0].message}`);
      continue;
    }
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue;
    const where = `${file}: ${obj.kind}/${obj.metadata?.name}`;
    try {
      const Model = await modelClass(obj.apiVersion, obj.kind);
      new Model(obj).validate();
      checked++;
    } catch (e) {
      problems.push(`${where}: ${e.message}`);
    }
  }
}
for (const p of problems) console.error(p);
if (problems.length > 0 || checked === 0) process.exit(1);
console.log(`${checked} objects in ${files.length} files match the Kubernetes schemas`);

// Validates Kubernetes manifests against the API's OpenAPI schemas (kubernetes-models) and KEDA's CRD schemas
// (@kubernetes-models/keda): every document of every *.yaml in the given folders must be a kind we know and valid.
// Usage: node tools/node/validate-k8s.mjs deploy/k8s   → "N documents valid" and exit 0, or each error and exit 1.
// --dump prints the valid documents as one JSON array instead (for tests that check what the manifests say).
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import * as core from "kubernetes-models/v1";
import * as apps from "kubernetes-models/apps/v1";
import * as batch from "kubernetes-models/batch/v1";
import * as autoscaling from "kubernetes-models/autoscaling/v2";
import * as policy from "kubernetes-models/policy/v1";
import * as networking from "kubernetes-models/networking.k8s.io/v1";
import * as keda from "@kubernetes-models/keda/keda.sh/v1alpha1";

const groups = {
  v1: core, "apps/v1": apps, "batch/v1": batch, "autoscaling/v2": autoscaling, "policy/v1": policy,
  "networking.k8s.io/v1": networking, "keda.sh/v1alpha1": keda,
};

const dump = process.argv.includes("--dump");
const files = process.argv.slice(2).filter((a) => a !== "--dump").flatMap((p) =>
  statSync(p).isDirectory() ? readdirSync(p).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(p, f)) : [p]);
let valid = 0;
const docs = [];
const errors = [];
for (const file of files) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length) { errors.push(`${file}: YAML: ${doc.errors.map((e) => e.message).join("; ")}`); continue; }
    const obj = doc.toJS();
    if (obj == null) continue;
    const where = `${file}: ${obj.kind ?? "?"} ${obj.metadata?.name ?? "?"}`;
    const Model = groups[obj.apiVersion]?.[obj.kind];
    if (!Model) { errors.push(`${where}: unknown apiVersion/kind ${obj.apiVersion}/${obj.kind}`); continue; }
    try {
      new Model(obj).validate();
      valid++;
      docs.push(obj);
    } catch (e) {
      const details = (e.errors ?? []).map((x) => `${x.instancePath || "/"} ${x.message}${x.params ? " " + JSON.stringify(x.params) : ""}`);
      errors.push(`${where}: ${details.length ? details.join("; ") : e.message}`);
    }
  }
}
for (const e of errors) console.error(e);
console.log(dump ? JSON.stringify(docs) : `${valid} documents valid, ${errors.length} invalid`);
process.exit(errors.length || valid === 0 ? 1 : 0);

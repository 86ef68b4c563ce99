"""Checks deploy/kubernetes/*.yaml: well-formed YAML, every object with apiVersion, kind and
metadata.name in the agyn namespace, workload selectors matching their pod labels, Services
selecting an existing workload, containers naming an image and the agynd command, and every
Secret key a container reads existing. The schema check
proper is validate_manifests.mjs (kubernetes-models)."""
import glob
import os
import sys

import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "kubernetes")
KNOWN = {("v1", "Namespace"), ("v1", "Secret"), ("v1", "Service"), ("apps/v1", "Deployment"),
         ("apps/v1", "DaemonSet")}


def main():
    problems, objects = [], []
    files = sorted(glob.glob(os.path.join(ROOT, "*.yaml")))
    if not files:
        problems.append("no manifests found")
    for path in files:
        with open(path) as f:
            try:
                docs = [d for d in yaml.safe_load_all(f) if d is not None]
            except yaml.YAMLError as e:
                problems.append(f"{path}: not YAML: {e}")
                continue
        for doc in docs:
            where = f"{os.path.basename(path)}:{doc.get('kind')}/" \
                    f"{doc.get('metadata', {}).get('name')}"
            if (doc.get("apiVersion"), doc.get("kind")) not in KNOWN:
                problems.append(f"{where}: unexpected apiVersion/kind")
            if not doc.get("metadata", {}).get("name"):
                problems.append(f"{where}: no metadata.name")
            if doc.get("kind") != "Namespace" and doc["metadata"].get("namespace") != "agyn":
                problems.append(f"{where}: not in namespace agyn")
            objects.append((where, doc))
    secrets = {d["metadata"]["name"]: set((d.get("stringData") or d.get("data") or {}).keys())
               for _, d in objects if d.get("kind") == "Secret"}
    workloads = [(w, d) for w, d in objects if d.get("kind") in ("Deployment", "DaemonSet")]
    for where, doc in workloads:
        spec = doc["spec"]
        labels = spec["template"]["metadata"]["labels"]
        for key, value in spec["selector"]["matchLabels"].items():
            if labels.get(key) != value:
                problems.append(f"{where}: selector {key} does not match the pod labels")
        pod = spec["template"]["spec"]
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for container in pod["containers"]:
            if not container.get("image") or container["args"][0] not in ("serve", "runner"):
                problems.append(f"{where}: container {container['name']} runs no agynd command")
            for mount in container.get("volumeMounts", []):
                if mount["name"] not in volumes:
                    problems.append(f"{where}: mount {mount['name']} has no volume")
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["key"] not in secrets.get(ref["name"], set()):
                    problems.append(f"{where}: env {env['name']} reads a missing secret key")
            for probe in ("readinessProbe", "livenessProbe"):
                path = container.get(probe, {}).get("httpGet", {}).get("path")
                if path not in ("/readyz", "/healthz"):
                    problems.append(f"{where}: {probe} is not /readyz or /healthz")
        for volume in volumes.values():
            name = volume.get("secret", {}).get("secretName")
            if name and name not in secrets:
                problems.append(f"{where}: volume {volume['name']} names a missing Secret")
    for where, doc in objects:
        if doc.get("kind") != "Service":
            continue
        selector = doc["spec"]["selector"]
        if not any(all(d["spec"]["template"]["metadata"]["labels"].get(k) == v
                       for k, v in selector.items()) for _, d in workloads):
            problems.append(f"{where}: selects no workload")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(objects)} objects in {len(files)} files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Turns deploy/kubernetes into what `podman kube play` (4.3) runs on one machine, for
scripts/container-test. What it changes, and why:

- Secret volumes become hostPath volumes: podman 4.3 mounts neither Secrets nor Secret volumes. The
  files come from `concord certs kube-secrets` output (decoded here), so that output is checked too.
- `env.valueFrom.secretKeyRef` of concord-database becomes the literal connection string.
- hostNetwork, with each pod on its own loopback address (CONCORD_HOST) and an /etc/hosts (a
  hostPath file) standing in for the cluster DNS names of the headless Services: this machine has no
  network but loopback, and podman 4.3 ignores hostAliases under host networking.
- No container ports (podman refuses port mappings under host networking); CONCORD_METRICS binds
  each pod's own address rather than 0.0.0.0, which the pods would share. One replica each; Services and PodDisruptionBudgets are left out (podman has no use for them;
  `kubectl kustomize` renders them in container-test).
- Images are the ones container-test just built.

Usage: kube-play-local.py MANIFESTS_DIR SECRETS_YAML CERTS_OUT IMAGE_PREFIX DATABASE_URL ADDRESSES
  ADDRESSES: name=ip,name=ip,... for gateway, participants, agreements, trade-metrics, console.
Prints the pod YAML on standard output.
"""
import base64
import os
import sys

import yaml

manifests, secrets_file, certs_out, image_prefix, database, addresses = sys.argv[1:7]
address = dict(pair.split("=", 1) for pair in addresses.split(","))

# Secrets -> one directory of files per Secret, readable by the images' user (uid 10001).
os.makedirs(certs_out, exist_ok=True)
hosts_file = os.path.join(certs_out, "hosts")
with open(hosts_file, "w") as out:
    out.write("127.0.0.1 localhost\n")
    for host, ip in address.items():
        out.write(f"{ip} {host}\n")
os.chmod(hosts_file, 0o444)

secret_dirs = {}
with open(secrets_file) as f:
    for secret in yaml.safe_load_all(f):
        name = secret["metadata"]["name"]
        directory = os.path.join(certs_out, name)
        os.makedirs(directory, exist_ok=True)
        for file, data in secret["data"].items():
            path = os.path.join(directory, file)
            with open(path, "wb") as out:
                out.write(base64.b64decode(data))
            os.chmod(path, 0o440)
            os.chown(path, 10001, 10001)
        os.chown(directory, 10001, 10001)
        secret_dirs[name] = directory

documents = []
for file in sorted(os.listdir(manifests)):
    if not file.endswith(".yaml") or file == "kustomization.yaml":
        continue
    with open(os.path.join(manifests, file)) as f:
        for document in yaml.safe_load_all(f):
            if document["kind"] != "Deployment":
                continue
            name = document["metadata"]["name"]
            document["spec"]["replicas"] = 1
            pod = document["spec"]["template"]["spec"]
            pod["hostNetwork"] = True
            pod.setdefault("volumes", []).append({"name": "hosts", "hostPath": {"path": hosts_file, "type": "File"}})
            for volume in pod.get("volumes", []):
                if "secret" in volume:
                    directory = secret_dirs[volume["secret"]["secretName"]]
                    del volume["secret"]
                    volume["hostPath"] = {"path": directory, "type": "Directory"}
            for container in pod["containers"]:
                container["image"] = f"{image_prefix}-{name}"
                # Under host networking podman refuses port mappings; the process binds CONCORD_HOST.
                container.pop("ports", None)
                container.setdefault("volumeMounts", []).append({"name": "hosts", "mountPath": "/etc/hosts", "readOnly": True})
                env = []
                for variable in container.get("env", []):
                    reference = variable.get("valueFrom", {}).get("secretKeyRef")
                    if reference and reference["name"] == "concord-database":
                        schema = "kube_" + reference["key"].replace("-", "_")
                        variable = {"name": variable["name"], "value": f"{database}?schema={schema}"}
                    if variable["name"] == "CONCORD_METRICS":
                        # Every pod shares the host's network: each serves metrics on its own address.
                        variable = {"name": "CONCORD_METRICS", "value": f"{address[name]}:9464"}
                    env.append(variable)
                # The console's address variable is its own: it serves browsers, not the protocol.
                env.append({"name": "CONCORD_CONSOLE_HOST" if name == "console" else "CONCORD_HOST", "value": address[name]})
                container["env"] = env
            documents.append(document)

yaml.safe_dump_all(documents, sys.stdout, sort_keys=False)

"""The last of the hostile cases: a step naming a proxy its target does not
define fails with a message naming both, and no daemon log or cohortctl
output of the whole session shows a secret (enlistment tokens, secret
environment values) except the `target token` output that issued it.

Runs last (file order), so the scan covers every test of the session that
ran before it; it makes secrets of its own as well, so it can fail alone."""
import glob
import hashlib
import json
import os

from cohort import OUTPUTS, SECRETS, admin_cert, api, wait_for


def one_target(cluster):
    m = cluster.master().init().start()
    t = cluster.target("web-1")
    t.enlist(m)
    t.start()
    wait_for(lambda: m.targets().get("web-1", {}).get("last_poll"),
             what="web-1 to poll")
    return m, t


def finished_run(m, job):
    rows = [r for r in m.history("--job", job, "--limit", "100")
            if r["outcome"] != "running"]
    run = [r for r in rows if r["step"] == 0]
    steps = [r for r in rows if r["step"] > 0]
    return (run[0], steps) if run and steps else None


def test_missing_proxy_fails_the_step_and_names_it(cluster):
    m, _ = one_target(cluster)
    m.apply_job({"name": "as-ghost", "targets": ["web-1"], "steps": [
        {"name": "s", "command": "id -un", "proxy": "ghost"}]})
    m.ctl("job", "start", "as-ghost")
    run, steps = wait_for(lambda: finished_run(m, "as-ghost"),
                          what="the as-ghost run")
    assert run["outcome"] == "failed"
    assert steps[0]["outcome"] == "failed"
    assert "proxy 'ghost' is not defined on target web-1" in \
        steps[0]["message"], steps[0]
    assert steps[0]["output"] == ""


def test_a_listed_job_applied_again_keeps_its_secret(cluster):
    """`job show --json`, edited and applied again, shows each secret as
    the mask: applying it keeps the stored value, not the mask. A mask
    with no stored secret to keep is refused and changes nothing."""
    m, _ = one_target(cluster)
    secret = "Vb8-kept-on-reapply"
    SECRETS.add(secret)
    m.apply_job({"name": "rehash", "targets": ["web-1"], "steps": [
        {"name": "s", "command": 'printf %s "$PASS" | sha256sum',
         "env": {"PASS": {"value": secret, "secret": True}}}]})
    doc = m.ctl_json("job", "show", "rehash")["document"]
    assert doc["steps"][0]["env"]["PASS"]["value"] == "********"
    doc["description"] = "edited from the listing"
    path = os.path.join(cluster.root, "rehash-listed.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    out = m.ctl("job", "apply", path).stdout
    assert "updated" in out or "changed" in out, out
    m.ctl("job", "start", "rehash")
    run, steps = wait_for(lambda: finished_run(m, "rehash"),
                          what="the rehash run")
    assert run["outcome"] == "succeeded", run
    assert hashlib.sha256(secret.encode()).hexdigest() in \
        steps[0]["output"], steps[0]
    # the mask where nothing is stored: refused, the job unchanged
    doc["steps"][0]["env"]["TOKEN"] = {"value": "********", "secret": True}
    with open(path, "w") as f:
        json.dump(doc, f)
    r = m.ctl("job", "apply", path, check=False)
    assert r.returncode != 0 and "steps[1].env.TOKEN.value" in r.stderr, \
        r.stderr
    shown = m.ctl_json("job", "show", "rehash")["document"]
    assert set(shown["steps"][0]["env"]) == {"PASS"}


def issued_it(args):
    """The cohortctl call whose output is the secret itself."""
    return "token" in args and "target" in args


def test_no_log_or_output_shows_a_secret(cluster, tmp_path_factory):
    m, t = one_target(cluster)
    secret = "Zq7-never-shown-4411"
    m.apply_job({"name": "keeps-quiet", "targets": ["web-1"], "steps": [
        {"name": "s", "command": "echo have:$PASS; echo $PASS >&2",
         "env": {"PASS": {"value": secret, "secret": True}}}]})
    m.ctl("job", "start", "keeps-quiet")
    wait_for(lambda: finished_run(m, "keeps-quiet"), what="keeps-quiet")
    m.ctl("history", "--job", "keeps-quiet", "--json")
    m.ctl("job", "show", "keeps-quiet", "--json")
    # a document the parser stops in, just after a secret: the refusal
    # (logged, and sent back) names the line and column, not the text
    # (jansson quotes up to 20 characters of it, so a short secret)
    bad = "Kq3-shh-91"
    SECRETS.add(bad)
    body = ('{"name": "garbled", "targets": ["web-1"], "steps": [{"name":'
            ' "s", "command": "true", "env": {"PASS": {"secret": true,'
            ' "value": "' + bad).encode() + b'\xe4"}}}]}'
    status, reply = api(m, "PUT", "/v1/jobs/garbled", body,
                        *admin_cert(m))
    assert status == 400 and "bad JSON at line 1" in \
        reply["error"]["message"], reply
    assert bad not in json.dumps(reply), reply
    m.stop()
    t.stop()
    assert secret in SECRETS and len(SECRETS) >= 2, SECRETS

    root = str(tmp_path_factory.getbasetemp())
    logs = glob.glob(os.path.join(root, "**", "*.log"), recursive=True)
    assert any(os.path.getsize(p) > 0 for p in logs), root
    found = []
    for path in logs:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        found += [(path, s) for s in SECRETS if s in text]
    for args, out, err in OUTPUTS:
        if issued_it(args):
            continue
        found += [(" ".join(args), s) for s in SECRETS
                  if s in out or s in err]
    assert not found, f"secrets shown in: {sorted(set(p for p, _ in found))}"


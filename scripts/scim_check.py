"""The SCIM compliance checker (PyPI scim2-tester, pinned in scripts/install.sh) against one
Roster connection: discovery, then create, read, query, replace, patch and delete of every
resource type the server advertises, filling every advertised attribute with random values
and comparing what comes back. Exits 1 unless every check passed (or was skipped because the
server advertises the feature as unsupported), printing each check's title and reason.

    scim_check.py BASE_URL TOKEN
"""
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

# Passing verdicts: the RFC's MUSTs, SHOULDs and MAYs met, or not run because the server says
# it does not offer the feature (bulk, sort, etag, changePassword).
PASSING = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE, Status.SKIPPED}


def main() -> int:
    base_url, token = sys.argv[1], sys.argv[2]
    http = httpx2.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    client = SyncSCIMClient(http)
    results = check_server(client, raise_exceptions=False)
    failed = [r for r in results if r.status not in PASSING]
    for r in results:
        mark = "ok  " if r.status in PASSING else "FAIL"
        where = f" [{r.resource_type}]" if r.resource_type else ""
        print(f"{mark} {r.status.name:<10} {r.title}{where}" + (f": {r.reason}" if r.status not in PASSING else ""))
    ran = [r for r in results if r.status != Status.SKIPPED]
    print(f"scim2-tester: {len(results) - len(failed)} passed, {len(failed)} failed ({len(ran)} run, {len(results) - len(ran)} skipped)")
    # (a run that checked nothing proves nothing)
    return 1 if failed or len(ran) < 10 else 0


if __name__ == "__main__":
    sys.exit(main())

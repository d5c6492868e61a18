#!/usr/bin/python3
"""What an operator might write instead of agcod: sign one AGCOD request with
botocore's SigV4Auth and send it with the standard library.

    botocore_client.py ENDPOINT CA_BUNDLE OPERATION BODY  (keys in the environment)
"""
import http.client
import os
import ssl
import sys
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main():
    endpoint, ca, op, body = sys.argv[1:5]
    url = f"{endpoint}/{op}"
    req = AWSRequest(method="POST", url=url, data=body.encode(), headers={
        "accept": "application/json", "content-type": "application/json",
        "x-amz-target": "com.amazonaws.agcod.AGCODService." + op})
    SigV4Auth(Credentials(os.environ["AGCOD_ACCESS_KEY_ID"],
                          os.environ["AGCOD_SECRET_ACCESS_KEY"]),
              "AGCODService", "us-east-1").add_auth(req)
    u = urllib.parse.urlsplit(url)
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10)
    conn.request("POST", u.path, body=req.body, headers=dict(req.headers.items()))
    resp = conn.getresponse()
    sys.stdout.write(resp.read().decode() + "\n")
    return 0 if resp.status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())

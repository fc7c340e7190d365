"""One S3 call, run by the lab tests inside a lab host's network namespace (`in_network_of`):
    python s3_probe.py ENDPOINT CA ACCESS_FILE SECRET_FILE METHOD '{"Bucket": ...}'
METHOD is a boto3 S3 client method; a `Body` read from stdin is sent with `put_object`.
Prints the response as JSON (a streamed body as hex); an S3 error prints {"Error": code}
and exits 3. Keys are read from the lab's secret files, never passed on a command line."""

import json
import sys
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, ca, access_file, secret_file, method, kwargs = sys.argv[1:7]
client = boto3.client("s3", endpoint_url=endpoint,
                      aws_access_key_id=Path(access_file).read_text().split()[0],
                      aws_secret_access_key=Path(secret_file).read_text().split()[0],
                      verify=ca, region_name="default",
                      # Ceph 16's RGW takes neither the streamed (aws-chunked) uploads
                      # nor the checksums that boto3 sends by default since 1.36.
                      config=Config(s3={"addressing_style": "path"},
                                    request_checksum_calculation="when_required",
                                    response_checksum_validation="when_required",
                                    retries={"max_attempts": 2}))
args = json.loads(kwargs)
if method == "put_object":
    args["Body"] = sys.stdin.buffer.read()
try:
    response = getattr(client, method)(**args)
except ClientError as error:
    print(json.dumps({"Error": error.response["Error"]["Code"]}))
    sys.exit(3)
response.pop("ResponseMetadata", None)
if "Body" in response:
    response["Body"] = response["Body"].read().hex()
print(json.dumps(response, default=str))

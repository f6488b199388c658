#!/usr/bin/env python3
"""boto3 against a moto S3 server: what Atrium's S3 blob store is checked with, from the outside.

Usage (every answer is one JSON object on standard output):
  s3_peer.py setup ENDPOINT BUCKET
      Creates an IAM user with an access key allowed s3:* and the bucket: exactly four actions, so that a moto server
      started with INITIAL_NO_AUTH_ACTION_COUNT=4 checks every later request's signature and key.
      -> {"accessKeyId": ..., "secretAccessKey": ...}
  s3_peer.py list ENDPOINT KEY SECRET BUCKET PREFIX
      -> {"objects": [{"key", "size", "etag"}...], "uploads": N (multipart uploads in progress)}
  s3_peer.py get ENDPOINT KEY SECRET BUCKET OBJECTKEY OUTFILE
      -> {"size": N, "etag": ...}
  s3_peer.py put ENDPOINT KEY SECRET BUCKET OBJECTKEY INFILE
      -> {"etag": ...}
"""
import json
import sys

import boto3

REGION = "us-east-1"


def client(service, endpoint, key, secret):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key,
                        aws_secret_access_key=secret)


def main(argv):
    command, endpoint = argv[1], argv[2]
    if command == "setup":
        bucket = argv[3]
        iam = client("iam", endpoint, "setup", "setup")
        iam.create_user(UserName="atrium")
        key = iam.create_access_key(UserName="atrium")["AccessKey"]
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        iam.put_user_policy(UserName="atrium", PolicyName="s3", PolicyDocument=json.dumps(policy))
        client("s3", endpoint, key["AccessKeyId"], key["SecretAccessKey"]).create_bucket(Bucket=bucket)
        return {"accessKeyId": key["AccessKeyId"], "secretAccessKey": key["SecretAccessKey"]}
    key, secret, bucket = argv[3], argv[4], argv[5]
    s3 = client("s3", endpoint, key, secret)
    if command == "list":
        objects = []
        # moto mis-verifies the signature of a query value holding a slash: ask without it, filter here.
        prefix = argv[6]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix.rstrip("/")):
            for item in page.get("Contents", []):
                if item["Key"].startswith(prefix):
                    objects.append({"key": item["Key"], "size": item["Size"], "etag": item["ETag"]})
        uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        return {"objects": objects, "uploads": len(uploads)}
    if command == "get":
        answer = s3.get_object(Bucket=bucket, Key=argv[6])
        data = answer["Body"].read()
        with open(argv[7], "wb") as out:
            out.write(data)
        return {"size": len(data), "etag": answer["ETag"]}
    if command == "put":
        with open(argv[7], "rb") as source:
            answer = s3.put_object(Bucket=bucket, Key=argv[6], Body=source.read())
        return {"etag": answer["ETag"]}
    raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv)))

"""Tenants as the manual checklists made them, created in the emulator for discover and audit.

Exactly as the provisioning documents (../shared/NOTES.md) describe them, in the QA account:
- `oldgallery`, a media-gallery tenant: bucket `fusion-rms-oldgallery` tagged `OrgId`, no public access
  block, a `pub/` folder, a bucket policy with the public `pub/*` read and the user `rms_oldgallery` as
  principal (get/put/delete objects, list the bucket), no versioning; the user has no policy of its own
  and one access key;
- `oldapp`, an app server under an alternative name `fusion-rms-oldapp-2`: its user has a
  customer-managed policy attached (list and get-location on the bucket, `"Action": "*"` on objects);
- `oldorders`, an order system: its user has only an inline `s3:PutObject` policy, and two keys;
- an orphan bucket `fusion-rms-lonely` without a user, and an orphan user `rms_ghost` without a bucket.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

ACCOUNT = "222222222222"


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def make_legacy_tenants(endpoint: str) -> None:
    session = boto3.session.Session(region_name="us-east-1")
    s3, iam = session.client("s3", endpoint_url=endpoint), session.client("iam", endpoint_url=endpoint)

    s3.create_bucket(Bucket="fusion-rms-oldgallery")
    s3.put_bucket_tagging(Bucket="fusion-rms-oldgallery", Tagging={"TagSet": [{"Key": "OrgId", "Value": "oldgallery"}]})
    s3.put_object(Bucket="fusion-rms-oldgallery", Key="pub/", Body=b"")
    iam.create_user(UserName="rms_oldgallery")
    iam.create_access_key(UserName="rms_oldgallery")
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/rms_oldgallery"
    s3.put_bucket_policy(
        Bucket="fusion-rms-oldgallery",
        Policy=document(
            {
                "Sid": "PublicRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::fusion-rms-oldgallery/pub/*",
            },
            {
                "Sid": "TenantObjects",
                "Effect": "Allow",
                "Principal": {"AWS": user_arn},
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": "arn:aws:s3:::fusion-rms-oldgallery/*",
            },
            {
                "Sid": "TenantList",
                "Effect": "Allow",
                "Principal": {"AWS": user_arn},
                "Action": "s3:ListBucket",
                "Resource": "arn:aws:s3:::fusion-rms-oldgallery",
            },
        ),
    )

    s3.create_bucket(Bucket="fusion-rms-oldapp-2")
    iam.create_user(UserName="rms_oldapp")
    iam.create_access_key(UserName="rms_oldapp")
    policy = iam.create_policy(
        PolicyName="oldapp-bucket",
        PolicyDocument=document(
            {
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": "arn:aws:s3:::fusion-rms-oldapp-2",
            },
            {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::fusion-rms-oldapp-2/*"},
        ),
    )
    iam.attach_user_policy(UserName="rms_oldapp", PolicyArn=policy["Policy"]["Arn"])

    s3.create_bucket(Bucket="fusion-rms-oldorders")
    iam.create_user(UserName="rms_oldorders")
    iam.put_user_policy(
        UserName="rms_oldorders",
        PolicyName="upload",
        PolicyDocument=document(
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::fusion-rms-oldorders/*"}
        ),
    )
    iam.create_access_key(UserName="rms_oldorders")
    iam.create_access_key(UserName="rms_oldorders")

    s3.create_bucket(Bucket="fusion-rms-lonely")
    iam.create_user(UserName="rms_ghost")

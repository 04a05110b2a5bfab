"""Amazon S3 for the one role whose data is bytes: uploaded files (``files.S3Files``).

Opt-in with ``FEEDLINE_FILES_BUCKET``: the files leave the database (SQLite or Cassandra), every
other role stays there. boto3 is imported on first use (the Lambda runtime provides it).
"""

"""The local runner: reads template.yaml, invokes functions, serves the HTTP API and the queue.

There is no Docker engine here, so ``sam local`` cannot run; this runner plays API Gateway (HTTP
API, payload v2) and the SQS event source mapping in one process, driven by the same template
that deploys to AWS, so the two cannot drift apart.
"""

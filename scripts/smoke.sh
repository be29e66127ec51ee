#!/usr/bin/env bash
# Smoke test of a running kinesd with the AWS CLI.
#
#   scripts/smoke.sh http://127.0.0.1:4567
#
# The server needs --shard-limit of at least ~900 (one 600-shard stream, 250 one-shard
# streams and a few more), e.g. `kinesd --in-memory --shard-limit 2000`.
# Works with AWS CLI v1 and v2. Bulk stream creation uses curl when available (one CLI call
# costs about a second of Python start-up); everything else goes through the CLI.
set -euo pipefail

ENDPOINT="${1:?usage: smoke.sh ENDPOINT}"
export AWS_ACCESS_KEY_ID=smoke-akid
export AWS_SECRET_ACCESS_KEY=smoke-secret
export AWS_DEFAULT_REGION=us-east-1
export AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN || true

# AWS CLI v2 expects blob arguments in base64 unless told otherwise; v1 always takes raw text
# and base64-encodes it itself. Either way the stored bytes are the raw text below.
BINARY_FORMAT=()
if aws --version 2>&1 | grep -q '^aws-cli/2'; then
    BINARY_FORMAT=(--cli-binary-format raw-in-base64-out)
fi

k() { aws --endpoint-url "$ENDPOINT" --output json kinesis "$@"; }
fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
check_eq() { # what expected actual
    [[ "$2" == "$3" ]] || fail "$1: expected '$2', got '$3'"
}
b64() { printf '%s' "$1" | base64 | tr -d '\n'; }

RUN="smoke$$"
STREAM="$RUN-main"
BIG="$RUN-big"
START=$(date +%s)

# --- one stream, end to end ----------------------------------------------------------------
k create-stream --stream-name "$STREAM" --shard-count 2
k wait stream-exists --stream-name "$STREAM"

put=$(k put-record --stream-name "$STREAM" --partition-key pk-1 --data "smoke-record-1" \
    "${BINARY_FORMAT[@]}" --query '[ShardId, SequenceNumber]' --output text)
read -r SHARD SEQ1 <<<"$put"
[[ "$SHARD" == shardId-* ]] || fail "put-record shard id '$SHARD'"
[[ "$SEQ1" =~ ^[0-9]+$ ]] || fail "put-record sequence number '$SEQ1'"

# Same partition key, so both records of put-records land on the same shard as record 1.
records_json='[{"Data":"smoke-record-2","PartitionKey":"pk-1"},{"Data":"smoke-record-3","PartitionKey":"pk-1"}]'
failed=$(k put-records --stream-name "$STREAM" --records "$records_json" \
    "${BINARY_FORMAT[@]}" --query 'FailedRecordCount' --output text)
check_eq "put-records FailedRecordCount" 0 "$failed"

ITER=$(k get-shard-iterator --stream-name "$STREAM" --shard-id "$SHARD" \
    --shard-iterator-type TRIM_HORIZON --query ShardIterator --output text)
[[ -n "$ITER" ]] || fail "empty shard iterator"
got=$(k get-records --shard-iterator "$ITER" --query 'Records[].Data' --output text | tr '\t' '\n')
expected=$(printf '%s\n' "$(b64 smoke-record-1)" "$(b64 smoke-record-2)" "$(b64 smoke-record-3)")
check_eq "get-records data (base64 of what was put)" "$expected" "$got"
first_seq=$(k get-records --shard-iterator "$ITER" --query 'Records[0].SequenceNumber' --output text)
check_eq "get-records first sequence number" "$SEQ1" "$first_seq"

names=$(k list-streams --query 'StreamNames' --output text | tr '\t' '\n')
grep -qx "$STREAM" <<<"$names" || fail "list-streams does not show $STREAM"

shard_count=$(k list-shards --stream-name "$STREAM" --query 'length(Shards)')
check_eq "list-shards count" 2 "$shard_count"

summary=$(k describe-stream-summary --stream-name "$STREAM" \
    --query '[StreamDescriptionSummary.StreamStatus, StreamDescriptionSummary.OpenShardCount]' --output text)
check_eq "describe-stream-summary" "ACTIVE	2" "$summary"

# --- resharding, consumers and tags by ARN --------------------------------------------------
ARN=$(k describe-stream-summary --stream-name "$STREAM" \
    --query 'StreamDescriptionSummary.StreamARN' --output text)
k split-shard --stream-name "$STREAM" --shard-to-split shardId-000000000000 \
    --new-starting-hash-key 85070591730234615865843651857942052864
k wait stream-exists --stream-name "$STREAM"
open_after_split=$(k list-shards --stream-name "$STREAM" --shard-filter Type=AT_LATEST --query 'length(Shards)')
check_eq "open shards after split-shard" 3 "$open_after_split"
k merge-shards --stream-name "$STREAM" --shard-to-merge shardId-000000000002 \
    --adjacent-shard-to-merge shardId-000000000003
k wait stream-exists --stream-name "$STREAM"
open_after_merge=$(k list-shards --stream-name "$STREAM" --shard-filter Type=AT_LATEST --query 'length(Shards)')
check_eq "open shards after merge-shards" 2 "$open_after_merge"
target=$(k update-shard-count --stream-name "$STREAM" --target-shard-count 4 \
    --scaling-type UNIFORM_SCALING --query TargetShardCount --output text)
check_eq "update-shard-count target" 4 "$target"
k wait stream-exists --stream-name "$STREAM"
open_after_scale=$(k list-shards --stream-name "$STREAM" --shard-filter Type=AT_LATEST --query 'length(Shards)')
check_eq "open shards after update-shard-count" 4 "$open_after_scale"

CONSUMER=$(k register-stream-consumer --stream-arn "$ARN" --consumer-name smoke-consumer \
    --query Consumer.ConsumerARN --output text)
[[ "$CONSUMER" == "$ARN/consumer/smoke-consumer:"* ]] || fail "consumer ARN '$CONSUMER'"
consumers=$(k list-stream-consumers --stream-arn "$ARN" --query 'Consumers[].ConsumerName' --output text)
check_eq "list-stream-consumers" "smoke-consumer" "$consumers"
k tag-resource --resource-arn "$ARN" --tags team=smoke
tag=$(k list-tags-for-resource --resource-arn "$ARN" --query "Tags[?Key=='team'].Value" --output text)
check_eq "list-tags-for-resource" "smoke" "$tag"
k deregister-stream-consumer --consumer-arn "$CONSUMER"
left=$(k list-stream-consumers --stream-arn "$ARN" --query 'length(Consumers)')
check_eq "consumers after deregister" 0 "$left"

k delete-stream --stream-name "$STREAM"
k wait stream-not-exists --stream-name "$STREAM"
names=$(k list-streams --query 'StreamNames' --output text | tr '\t' '\n')
if grep -qx "$STREAM" <<<"$names"; then fail "$STREAM still listed after delete"; fi

# --- list-streams paging through 250 streams ----------------------------------------------
PAGED=250
create_one() {
    local name="$1"
    if command -v curl >/dev/null 2>&1; then
        local out
        out=$(curl -sS -w '\n%{http_code}' -X POST "$ENDPOINT/" \
            -H 'Content-Type: application/x-amz-json-1.1' \
            -H 'X-Amz-Target: Kinesis_20131202.CreateStream' \
            -H 'X-Amz-Date: 20260101T000000Z' \
            -H 'Authorization: AWS4-HMAC-SHA256 Credential=smoke-akid/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=0' \
            --data "{\"StreamName\":\"$name\",\"ShardCount\":1}")
        [[ "${out##*$'\n'}" == 200 ]] || fail "CreateStream $name: $out"
    else
        k create-stream --stream-name "$name" --shard-count 1
    fi
}
for i in $(seq -w 1 "$PAGED"); do
    create_one "$RUN-page-$i"
done
listed=$(k list-streams --page-size 7 --query 'StreamNames' --output text | tr '\t' '\n' \
    | grep -c "^$RUN-page-" || true)
check_eq "list-streams --page-size 7 streams seen" "$PAGED" "$listed"
distinct=$(k list-streams --page-size 7 --query 'StreamNames' --output text | tr '\t' '\n' \
    | grep "^$RUN-page-" | sort -u | wc -l | tr -d ' ')
check_eq "list-streams distinct streams" "$PAGED" "$distinct"
summaries=$(k list-streams --page-size 7 --query "length(StreamSummaries[?starts_with(StreamName, '$RUN-page-')])")
check_eq "list-streams stream summaries" "$PAGED" "$summaries"
# One page of the default size (100) says there is more.
more=$(k list-streams --no-paginate --query 'HasMoreStreams' --output text)
check_eq "list-streams first page HasMoreStreams" True "$more"

# --- a 600-shard stream: ListShards default page holds them all ---------------------------
k create-stream --stream-name "$BIG" --shard-count 600
k wait stream-exists --stream-name "$BIG"
one_page=$(k list-shards --stream-name "$BIG" --no-paginate \
    --query '[length(Shards), NextToken]' --output text)
check_eq "list-shards 600 in one default page" "600	None" "$one_page"
last=$(k list-shards --stream-name "$BIG" --query 'Shards[-1].[ShardId, HashKeyRange.EndingHashKey]' --output text)
check_eq "last shard" "shardId-000000000599	340282366920938463463374607431768211455" "$last"
# describe-stream pages 100 shards at a time via ExclusiveStartShardId.
described=$(k describe-stream --stream-name "$BIG" --query 'length(StreamDescription.Shards)')
check_eq "describe-stream shards over all pages" 600 "$described"

k delete-stream --stream-name "$BIG"

echo "smoke: OK: put/get/list/describe/split/merge/scale/consumers/tags/delete on $STREAM, list-streams paged $PAGED streams by 7, list-shards 600 shards in one page ($(( $(date +%s) - START ))s, endpoint $ENDPOINT)"

//! Requests and responses of enhanced fan-out: consumer registration and description, and
//! SubscribeToShard's request and event payload.

use super::*;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Consumer {
    pub consumer_name: String,
    #[serde(rename = "ConsumerARN")]
    pub consumer_arn: String,
    pub consumer_status: String,
    pub consumer_creation_timestamp: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConsumerDescription {
    pub consumer_name: String,
    #[serde(rename = "ConsumerARN")]
    pub consumer_arn: String,
    pub consumer_status: String,
    pub consumer_creation_timestamp: Timestamp,
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RegisterStreamConsumerInput {
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub consumer_name: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

impl Validate for RegisterStreamConsumerInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        c.required("streamARN", &self.stream_arn);
        c.required("consumerName", &self.consumer_name);
        consumer_ref(&mut c, &self.stream_arn, &self.consumer_name, &None);
        tag_map(&mut c, "tags", &self.tags, 1);
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RegisterStreamConsumerOutput {
    pub consumer: Consumer,
}

/// DescribeStreamConsumer and DeregisterStreamConsumer: a consumer ARN, or stream ARN + name.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConsumerRefInput {
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub consumer_name: Option<String>,
    #[serde(rename = "ConsumerARN")]
    pub consumer_arn: Option<String>,
}

impl Validate for ConsumerRefInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        consumer_ref(
            &mut c,
            &self.stream_arn,
            &self.consumer_name,
            &self.consumer_arn,
        );
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeStreamConsumerOutput {
    pub consumer_description: ConsumerDescription,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListStreamConsumersInput {
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
    pub stream_creation_timestamp: Option<Timestamp>,
}

impl Validate for ListStreamConsumersInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        c.required("streamARN", &self.stream_arn);
        c.string("streamARN", self.stream_arn.as_deref(), 1, 2048, STREAM_ARN);
        c.length("nextToken", self.next_token.as_deref(), 1, 1048576);
        c.range("maxResults", self.max_results, 1, 10000);
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListStreamConsumersOutput {
    pub consumers: Vec<Consumer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartingPosition {
    #[serde(rename = "Type")]
    pub position_type: Option<String>,
    pub sequence_number: Option<String>,
    pub timestamp: Option<Timestamp>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SubscribeToShardInput {
    #[serde(rename = "ConsumerARN")]
    pub consumer_arn: Option<String>,
    pub shard_id: Option<String>,
    pub starting_position: Option<StartingPosition>,
}

impl Validate for SubscribeToShardInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        c.required("consumerARN", &self.consumer_arn);
        c.length("consumerARN", self.consumer_arn.as_deref(), 1, 2048);
        c.pattern("consumerARN", self.consumer_arn.as_deref(), CONSUMER_ARN);
        c.required("shardId", &self.shard_id);
        c.string("shardId", self.shard_id.as_deref(), 1, 128, NAME);
        c.required("startingPosition", &self.starting_position);
        if let Some(p) = &self.starting_position {
            c.required("startingPosition.type", &p.position_type);
            c.one_of(
                "startingPosition.type",
                p.position_type.as_deref(),
                &SHARD_ITERATOR_TYPES,
            );
            c.pattern(
                "startingPosition.sequenceNumber",
                p.sequence_number.as_deref(),
                SEQUENCE_NUMBER,
            );
        }
        c.finish()
    }
}

/// The payload of each `SubscribeToShardEvent` message.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SubscribeToShardEvent {
    pub records: Vec<Record>,
    pub continuation_sequence_number: String,
    pub millis_behind_latest: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_shards: Option<Vec<ChildShard>>,
}

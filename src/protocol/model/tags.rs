//! Requests and responses of tagging: by stream (AddTagsToStream, RemoveTagsFromStream,
//! ListTagsForStream) and by resource ARN (TagResource, UntagResource, ListTagsForResource).

use super::*;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddTagsToStreamInput {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

impl Validate for AddTagsToStreamInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        c.required("tags", &self.tags);
        tag_map(&mut c, "tags", &self.tags, 1);
        c.finish()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoveTagsFromStreamInput {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub tag_keys: Option<Vec<String>>,
}

impl Validate for RemoveTagsFromStreamInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        tag_keys(&mut c, &self.tag_keys);
        c.finish()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForStreamInput {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub exclusive_start_tag_key: Option<String>,
    pub limit: Option<i64>,
}

impl Validate for ListTagsForStreamInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        stream_ref(&mut c, &self.stream_name, &self.stream_arn);
        c.length(
            "exclusiveStartTagKey",
            self.exclusive_start_tag_key.as_deref(),
            1,
            128,
        );
        c.range("limit", self.limit, 1, 50);
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForStreamOutput {
    pub tags: Vec<Tag>,
    pub has_more_tags: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceInput {
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
}

impl Validate for TagResourceInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        c.required("tags", &self.tags);
        tag_map(&mut c, "tags", &self.tags, 1);
        resource_arn(&mut c, &self.resource_arn);
        c.finish()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceInput {
    pub tag_keys: Option<Vec<String>>,
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
}

impl Validate for UntagResourceInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        tag_keys(&mut c, &self.tag_keys);
        resource_arn(&mut c, &self.resource_arn);
        c.finish()
    }
}

/// ListTagsForResource, GetResourcePolicy and DeleteResourcePolicy: just a resource ARN.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceRefInput {
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
}

impl Validate for ResourceRefInput {
    fn validate(&self) -> Result<(), ApiError> {
        let mut c = Coral::new();
        resource_arn(&mut c, &self.resource_arn);
        c.finish()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForResourceOutput {
    pub tags: Vec<Tag>,
}

//! AWS Secrets Manager and SSM Parameter Store (feature `aws`): not wired yet.
use crate::env::Environment;
use crate::manifest::AwsLocation;
use crate::resolve::Fetched;
use std::time::Duration;

pub fn fetch_all(locations: &[&AwsLocation], _env: &Environment, _t: Duration) -> Vec<Fetched> {
    locations
        .iter()
        .map(|l| Fetched::Failed(format!("{l}: fetching from AWS is not implemented yet")))
        .collect()
}

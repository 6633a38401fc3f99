//! Support for the tests that run against real S3 servers on 127.0.0.1.
#![allow(dead_code)]

pub mod fault_proxy;
pub mod harness;
pub mod pocketbase;
pub mod provider_imitation;
pub mod raw_http;
pub mod servers;
pub mod sqlite;

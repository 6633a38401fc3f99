//! The Cloudflare Worker glue. (Placeholder.)

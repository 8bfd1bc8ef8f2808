//! tabops-apply

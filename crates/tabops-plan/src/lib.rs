//! tabops-plan

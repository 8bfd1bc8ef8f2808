//! tabops-tableau

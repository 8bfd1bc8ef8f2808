//! [`Located`] values (a value plus where it was written) and [`Problem`]s (a diagnostic before its file index is
//! turned into a path).

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator};

use crate::node::Pos;

/// A value with its position and field path in the manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub pos: Pos,
    /// e.g. `projects[0].permissions[1].template`.
    pub field: String,
}

impl<T> Located<T> {
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn new(value: T, pos: Pos, field: impl Into<String>) -> Self {
        Self { value, pos, field: field.into() }
    }
    pub fn map<U>(&self, f: impl FnOnce(&T) -> U) -> Located<U> {
        Located { value: f(&self.value), pos: self.pos, field: self.field.clone() }
    }
    /// A problem at this value.
    pub fn problem(&self, message: impl Into<String>, hint: Option<String>) -> Problem {
        Problem { pos: self.pos, field: self.field.clone(), message: message.into(), hint }
    }
}

impl<T: JsonSchema> JsonSchema for Located<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// One problem found while reading or resolving, located by file index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pos: Pos,
    pub field: String,
    pub message: String,
    pub hint: Option<String>,
}

//! Configuration: the `.rolloutrc` schema, its layers, validation with positions, and the
//! safety gate that the person shipping cannot loosen.

mod gate;
mod load;
mod schema;
mod types;
pub mod validate;

pub use gate::{GATE_KEYS, tighten};
pub use load::{
    FileLayer, Loaded, env_var_for, line_col, load, parse_file, set_value, user_config_path,
};
pub use schema::*;
pub use types::*;

//! Which Burn backend runs the network (`backend` in the config): the only place that turns a
//! name into a [`Device`], and the only `#[cfg(feature = "wgpu")]` in gatenet.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendName {
    /// Burn's ndarray CPU backend: the default, and what the reference numbers were measured on.
    #[default]
    Ndarray,
    /// Burn's pure-Rust CPU backend, ndarray's successor; level with it on small nets.
    Flex,
    /// Burn's wgpu backend (Vulkan, Metal, DX12, or a software adapter); needs `--features wgpu`.
    Wgpu,
}

impl fmt::Display for BackendName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = format!("{self:?}").to_lowercase();
        f.write_str(&name)
    }
}

impl BackendName {
    /// The device for this backend. Always chosen explicitly: `Device::default()` would pick
    /// Flex, or wgpu when it is compiled in, whatever the config says.
    pub fn device(self) -> Result<Device, String> {
        match self {
            // Deprecated in Burn 0.22 in favour of Flex, but still the reference backend here;
            // `backend = "flex"` is one word away.
            #[allow(deprecated)]
            Self::Ndarray => Ok(Device::ndarray()),
            Self::Flex => Ok(Device::flex()),
            Self::Wgpu => wgpu_device(),
        }
    }
}

#[cfg(feature = "wgpu")]
fn wgpu_device() -> Result<Device, String> {
    Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device() -> Result<Device, String> {
    Err("backend \"wgpu\" needs the wgpu cargo feature, which this binary was built without; rebuild with `cargo build --release --features wgpu`".into())
}

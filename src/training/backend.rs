//! Which Burn backend runs the network (`backend` and `device` in the config): the only place
//! that turns a name into a [`Device`], and the only `#[cfg(feature = "wgpu")]` in gatenet.

use crate::config::{Adapter, BackendName};
use burn::tensor::{Device, Tensor};

impl BackendName {
    /// Selects this backend for the process: returns its device, checked to work, and makes it
    /// Burn's default device too. Burn falls back on `Device::default()` in places (a restored
    /// optimizer state is created there), and with wgpu compiled in that default would be the
    /// GPU even for a CPU run.
    ///
    /// Call it before any other thread starts: it sets environment variables.
    pub fn select(self, adapter: Adapter) -> Result<Device, String> {
        let name = self.to_string();
        // SAFETY: gatenet calls this at the start of a run, before Burn or anything else has
        // started a thread that could read the environment concurrently.
        unsafe {
            std::env::set_var("BURN_DEVICE", &name);
            if self == BackendName::Wgpu && adapter == Adapter::Cpu {
                std::env::set_var("CUBECL_WGPU_DEFAULT_DEVICE", "Cpu");
            }
            // Mesa's Vulkan drivers print "XDG_RUNTIME_DIR is invalid" once per probe when a
            // headless machine has none; they only need it for display surfaces, never used here.
            if self == BackendName::Wgpu && std::env::var_os("XDG_RUNTIME_DIR").is_none() {
                std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
            }
        }
        let device = match self {
            // Deprecated in Burn 0.22 in favour of Flex, but still the reference backend here;
            // `backend = "flex"` is one word away.
            #[allow(deprecated)]
            Self::Ndarray => Device::ndarray(),
            Self::Flex => Device::flex(),
            Self::Wgpu => wgpu_device(adapter)?,
        };
        probe(&device).map_err(|why| no_adapter(adapter, &why))?;
        Ok(device)
    }
}

/// Runs one tiny computation: wgpu only looks for an adapter when it is first used, and Burn
/// panics when it finds none.
fn probe(device: &Device) -> Result<(), String> {
    let device = device.clone();
    let run = std::panic::catch_unwind(move || {
        Tensor::<1>::zeros([1], &device).into_data().try_to_vec::<f32>().is_ok()
    });
    match run {
        Ok(true) => Ok(()),
        Ok(false) => Err("reading a tensor back failed".into()),
        Err(payload) => Err(payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()),
    }
}

fn no_adapter(adapter: Adapter, why: &str) -> String {
    // Burn's own words only when they say something; a lost channel to its device thread does not.
    let why = if why.is_empty() || why.contains("RecvError") { String::new() } else { format!(" ({why})") };
    format!(
        "backend \"wgpu\" with device = \"{adapter}\" found no usable adapter{why}; wgpu tries Vulkan, Metal, DX12 and GL. \
         Install a GPU driver, or Mesa's software Vulkan driver for device = \"cpu\" (Debian/Ubuntu: `apt-get install mesa-vulkan-drivers libvulkan1`), \
         or use backend = \"ndarray\""
    )
}

#[cfg(feature = "wgpu")]
fn wgpu_device(adapter: Adapter) -> Result<Device, String> {
    use burn::tensor::DeviceKind;
    let kind = match adapter {
        Adapter::Default => DeviceKind::DefaultDevice,
        Adapter::Discrete => DeviceKind::DiscreteGpu(0),
        Adapter::Integrated => DeviceKind::IntegratedGpu(0),
        Adapter::Cpu => DeviceKind::Cpu,
    };
    Ok(Device::wgpu(kind))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device(_: Adapter) -> Result<Device, String> {
    Err("backend \"wgpu\" needs the wgpu cargo feature, which this binary was built without; rebuild with `cargo build --release --features wgpu`".into())
}

//! LX-CLOUDINIT-INSTALLED, -ENABLED, -DATASOURCE, -CONFIG and LX-GROWPART.
//!
//! The Cloud-Init checks are warnings, escalated to errors when
//! LX-LOGIN-PATH finds no other way into the instance.

use imsprep_guest::linux::cloudinit::CloudInitFacts;
use imsprep_guest::linux::identity::OsFamily;
use imsprep_guest::linux::network::Stack;
use imsprep_guest::{Evidence, LinuxFacts};

use super::{fail, info, unknown, warn};
use crate::finding::{Code, Finding, Severity};

/// The four boot stages; the second was renamed in recent releases.
const STAGES: [&[&str]; 4] = [
    &["cloud-init-local.service"],
    &["cloud-init.service", "cloud-init-network.service"],
    &["cloud-config.service"],
    &["cloud-final.service"],
];

/// Runs the checks; true when Cloud-Init will run with an OpenStack data
/// source (no FAIL among its checks).
pub(crate) fn check(facts: &LinuxFacts, other_login: bool, out: &mut Vec<Finding>) -> bool {
    let Some(ci) = facts.cloud_init.get() else {
        let reason = facts
            .cloud_init
            .unknown
            .clone()
            .unwrap_or_else(|| "no cloud-init facts were read".to_owned());
        out.push(unknown(
            Code::LxCloudinitInstalled,
            "/etc/cloud",
            format!("whether Cloud-Init is installed could not be told: {reason}"),
            &facts.cloud_init.evidence,
        ));
        return false;
    };
    let mut found = Vec::new();
    let ok = installed(ci, &mut found) && enabled(ci, &mut found) && datasource(ci, &mut found);
    if !other_login {
        for f in &mut found {
            if f.message.starts_with("FAIL") || f.message.starts_with("UNKNOWN") {
                f.severity = Severity::Error;
                let why = " (an error: no account has a usable password or an SSH key, so Cloud-Init is the only way in)";
                // The reason belongs to the result, before the evidence.
                f.message = match f.message.split_once(". Read: ") {
                    Some((result, read)) => format!("{result}{why}. Read: {read}"),
                    None => format!("{}{why}", f.message),
                };
            }
        }
    }
    out.extend(found);
    if ci.installed() {
        config(facts, ci, out);
    }
    growpart(ci, out);
    ok
}

fn installed(ci: &CloudInitFacts, out: &mut Vec<Finding>) -> bool {
    if ci.installed() {
        return true;
    }
    out.push(fail(
        Code::LxCloudinitInstalled,
        "/usr/bin/cloud-init",
        "Cloud-Init is not installed (no /usr/bin/cloud-init, /usr/local/bin/cloud-init or package): the password or key chosen when an ECS is created cannot be injected; only credentials baked into the image work",
        &[Evidence::absent("/usr/bin/cloud-init"), Evidence::absent("/usr/local/bin/cloud-init")],
    ));
    false
}

fn enabled(ci: &CloudInitFacts, out: &mut Vec<Finding>) -> bool {
    let path = "/etc/systemd/system/cloud-init.target.wants";
    if !ci.disabled_by.is_empty() {
        out.push(fail(
            Code::LxCloudinitEnabled,
            "/etc/cloud",
            "Cloud-Init is disabled (marker file, kernel argument or ds-identify policy)",
            &ci.disabled_by,
        ));
        return false;
    }
    if let Some((p, ev)) = &ci.ds_identify_policy {
        if p.trim().to_ascii_lowercase().starts_with("disabled") {
            out.push(fail(
                Code::LxCloudinitEnabled,
                "/etc/cloud/ds-identify.cfg",
                format!("ds-identify policy is {p}: Cloud-Init never runs"),
                std::slice::from_ref(ev),
            ));
            return false;
        }
    }
    let masked: Vec<Evidence> = ci.masked_units().flat_map(|u| u.evidence()).collect();
    if !masked.is_empty() {
        out.push(fail(
            Code::LxCloudinitEnabled,
            path,
            "a Cloud-Init unit is masked",
            &masked,
        ));
        return false;
    }
    let stage_on: Vec<bool> = STAGES
        .iter()
        .map(|names| names.iter().any(|n| ci.unit(n).is_some_and(stage_starts)))
        .collect();
    let on = stage_on.iter().filter(|b| **b).count();
    let unit_ev: Vec<Evidence> = ci.units.iter().flat_map(|u| u.evidence()).collect();
    if on == 0 && ci.legacy_jobs.is_empty() {
        out.push(fail(
            Code::LxCloudinitEnabled,
            path,
            "no Cloud-Init stage is enabled to start at boot",
            &unit_ev,
        ));
        return false;
    }
    if on > 0 && on < STAGES.len() {
        let off: Vec<&str> = STAGES
            .iter()
            .zip(&stage_on)
            .filter(|(_, on)| !**on)
            .filter_map(|(n, _)| n.first().copied())
            .collect();
        out.push(warn(
            Code::LxCloudinitEnabled,
            path,
            format!(
                "only some Cloud-Init stages are enabled; not enabled: {}",
                off.join(", ")
            ),
            &unit_ev,
        ));
    }
    true
}

/// A stage starts at boot: enabled, or wanted by `cloud-init.target` from
/// a vendor folder (the target itself is pulled in by cloud-init's
/// generator), and not masked.
fn stage_starts(u: &imsprep_guest::linux::services::UnitState) -> bool {
    u.enabled()
        || (u.masked_by.is_none()
            && u.vendor_wants
                .iter()
                .any(|w| w.contains("cloud-init.target.wants")))
}

fn datasource(ci: &CloudInitFacts, out: &mut Vec<Finding>) -> bool {
    let version = ci.version_number();
    let version_text = ci
        .version
        .as_ref()
        .map_or_else(|| "unknown".to_owned(), |(v, _)| v.clone());
    let new_enough = version.is_some_and(|v| v >= (22, 4));
    for e in &ci.datasource_list_multiline {
        out.push(warn(
            Code::LxCloudinitDatasource,
            &e.location,
            "datasource_list is written as a multi-line list, which ds-identify does not read; it falls back to its default list",
            std::slice::from_ref(e),
        ).with_fix("Write it on one line: `datasource_list: [ OpenStack ]`."));
    }
    if let Some(s) = ci.setting("datasource.OpenStack.metadata_urls") {
        if !s.value.contains("169.254.169.254") {
            out.push(warn(
                Code::LxCloudinitDatasource,
                &s.evidence.location,
                format!(
                    "metadata_urls is {} and lacks http://169.254.169.254",
                    s.value
                ),
                std::slice::from_ref(&s.evidence),
            ));
        }
    }
    let mut ev: Vec<Evidence> = ci.cmdline_overrides.clone();
    if let Some((_, e)) = &ci.version {
        ev.push(e.clone());
    }
    match &ci.datasource_list {
        Some((list, e)) => {
            ev.insert(0, e.clone());
            let openstack = list
                .iter()
                .any(|d| d.eq_ignore_ascii_case("OpenStack") || d.eq_ignore_ascii_case("ConfigDrive"));
            if !openstack {
                out.push(fail(
                    Code::LxCloudinitDatasource,
                    &e.location,
                    format!("the effective datasource_list [{}] has neither OpenStack nor ConfigDrive: the metadata service is not used", list.join(", ")),
                    &ev,
                ));
                return false;
            }
            let real: Vec<&String> = list.iter().filter(|d| !d.eq_ignore_ascii_case("None")).collect();
            if real.len() > 1 && !new_enough {
                out.push(warn(
                    Code::LxCloudinitDatasource,
                    &e.location,
                    format!("datasource_list [{}] has several sources and cloud-init {version_text} is older than 22.4, whose ds-identify does not recognise the HUAWEICLOUD asset tag; it may disable cloud-init", list.join(", ")),
                    &ev,
                ));
            }
        }
        None if !new_enough => out.push(warn(
            Code::LxCloudinitDatasource,
            "/etc/cloud/cloud.cfg",
            format!("no datasource_list is set (the default list is searched) and cloud-init {version_text} is older than 22.4, whose ds-identify does not recognise the HUAWEICLOUD asset tag; it may disable cloud-init"),
            &ev,
        )),
        None => {}
    }
    true
}

fn config(facts: &LinuxFacts, ci: &CloudInitFacts, out: &mut Vec<Finding>) {
    let net = ci.setting("network.config");
    let net_disabled = net.is_some_and(|s| s.value.trim().eq_ignore_ascii_case("disabled"));
    if !net_disabled {
        let ev: Vec<Evidence> = net.map(|s| s.evidence.clone()).into_iter().collect();
        out.push(info(
            Code::LxCloudinitConfig,
            "/etc/cloud/cloud.cfg",
            format!(
                "network: {{config: disabled}} is not set (found: {}); IMS recommends it so Cloud-Init does not take over networking",
                net.map_or("not set", |s| s.value.as_str())
            ),
            &ev,
        ));
    }
    // The modules that inject keys and passwords, where the merged
    // configuration lists the stages at all.
    for (stage, module) in [
        ("cloud_init_modules", "ssh"),
        ("cloud_config_modules", "set_passwords"),
    ] {
        let listed_stage = ci.modules.iter().any(|(s, m)| s == stage && !m.is_empty());
        if listed_stage && !ci.module_listed(stage, module) {
            out.push(warn(
                Code::LxCloudinitConfig,
                "/etc/cloud/cloud.cfg",
                format!("{stage} does not list {module}: keys or passwords given at ECS creation are not applied (files read: {})", ci.config_files.join(", ")),
                &[],
            ).with_fix(format!("Add `{module}` to `{stage}` in /etc/cloud/cloud.cfg.")));
        }
    }
    if let Some(e) = &ci.stale_instance {
        out.push(info(
            Code::LxCloudinitConfig,
            &e.location,
            "a previous Cloud-Init run left /var/lib/cloud/instance; IMS asks to clear it before imaging (`cloud-init clean`)",
            std::slice::from_ref(e),
        ));
    }
    let pip = ci
        .installed_by
        .iter()
        .any(|e| e.location.starts_with("/usr/local/"));
    if pip && ci.setting("system_info.distro").is_none() {
        out.push(
            warn(
                Code::LxCloudinitConfig,
                "/etc/cloud/cloud.cfg",
                "Cloud-Init is installed by pip and system_info: distro: is not set",
                &ci.installed_by,
            )
            .with_fix("Set `system_info: {distro: <your distribution>}` in /etc/cloud/cloud.cfg."),
        );
    }
    let debian = facts
        .identity
        .get()
        .is_some_and(|i| i.family == OsFamily::Debian && i.major.is_some_and(|m| m >= 9));
    let nm = facts
        .network
        .get()
        .is_some_and(|n| n.enabled_stacks().any(|s| s == Stack::NetworkManager));
    let old = ci
        .version
        .as_ref()
        .is_some_and(|(v, _)| v.starts_with("0.7.9"));
    if debian && nm && old {
        out.push(warn(
            Code::LxCloudinitConfig,
            "/etc/cloud/cloud.cfg",
            "Debian 9 or later with NetworkManager and cloud-init 0.7.9: IMS documents that keys and passwords are then not injected",
            &ci.version.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>(),
        ).with_fix("Remove NetworkManager or upgrade cloud-init."));
    }
}

fn growpart(ci: &CloudInitFacts, out: &mut Vec<Finding>) {
    let module = ci.installed() && ci.module_listed("cloud_init_modules", "growpart");
    match (&ci.growpart_program, module) {
        (Some(_), true) => {}
        (None, true) => out.push(warn(
            Code::LxGrowpart,
            "/usr/bin/growpart",
            "Cloud-Init's growpart module is listed but the growpart program is not installed: the root partition stays at the image's size",
            &[Evidence::absent("/usr/bin/growpart")],
        )),
        (prog, false) => {
            let ev: Vec<Evidence> = prog.iter().cloned().collect();
            out.push(warn(
                Code::LxGrowpart,
                "/etc/cloud/cloud.cfg",
                format!(
                    "no mechanism grows the root file system to the ECS disk size ({}; Cloud-Init growpart module {})",
                    if prog.is_some() { "growpart installed" } else { "no growpart program" },
                    if ci.installed() { "not listed" } else { "absent" }
                ),
                &ev,
            ));
        }
    }
}

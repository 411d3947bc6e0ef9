//! Inputs shaped to make the Linux fact readers slow or large: many keys,
//! many accounts, many stanzas, many links. Each must finish quickly with
//! bounded output.

mod common;

use std::time::{Duration, Instant};

use common::{symlink, write};
use imsprep_guest::linux::access::access_facts;
use imsprep_guest::linux::cloudinit::cloud_init_facts;
use imsprep_guest::linux::network::{ifupdown::MAX_IFACES, network_facts};
use imsprep_guest::linux::services::{ServiceIndex, MAX_INDEXED_LINKS};
use imsprep_guest::DirGuest;

const BUDGET: Duration = Duration::from_secs(20);

#[test]
fn cloud_cfg_with_many_keys_merges_in_linear_time() {
    let d = tempfile::tempdir().unwrap();
    let keys: String = (0..60_000).map(|i| format!("k{i}: {i}\n")).collect();
    write(d.path(), "/etc/cloud/cloud.cfg", &keys);
    write(
        d.path(),
        "/etc/cloud/cloud.cfg.d/50.cfg",
        format!("{keys}datasource_list: [OpenStack]\n"),
    );
    let start = Instant::now();
    let f = cloud_init_facts(&DirGuest::new(d.path()), None, None);
    assert!(start.elapsed() < BUDGET, "{:?}", start.elapsed());
    assert_eq!(f.datasource_list.unwrap().0, ["OpenStack"]);
}

#[test]
fn many_accounts_read_keys_for_a_bounded_number() {
    let d = tempfile::tempdir().unwrap();
    let n = 20_000;
    let passwd: String = (0..n)
        .map(|i| format!("u{i}:x:{}:100::/home/u:/bin/bash\n", 1000 + i))
        .collect();
    let shadow: String = (0..n)
        .map(|i| format!("u{i}:$6$s$h:19700:0:99999:7:::\n"))
        .collect();
    write(d.path(), "/etc/passwd", passwd);
    write(d.path(), "/etc/shadow", shadow);
    write(
        d.path(),
        "/home/u/.ssh/authorized_keys",
        "ssh-ed25519 AAAA k\n",
    );
    let start = Instant::now();
    let f = access_facts(&DirGuest::new(d.path()));
    assert!(start.elapsed() < BUDGET, "{:?}", start.elapsed());
    assert_eq!(f.accounts.len(), n);
    let with_keys = f
        .accounts
        .iter()
        .filter(|a| a.authorized_keys.is_some())
        .count();
    assert_eq!(with_keys, imsprep_guest::linux::access::MAX_KEY_READS);
}

#[test]
fn many_iface_stanzas_are_capped() {
    let d = tempfile::tempdir().unwrap();
    let text: String = (0..20_000)
        .map(|i| format!("auto e{i}\niface e{i} inet dhcp\n"))
        .collect();
    write(d.path(), "/etc/network/interfaces", text);
    let start = Instant::now();
    let f = network_facts(&DirGuest::new(d.path()), None);
    assert!(start.elapsed() < BUDGET, "{:?}", start.elapsed());
    assert_eq!(f.profiles.len(), MAX_IFACES);
    assert!(f.profiles.iter().all(|p| p.at_boot && p.dhcp4));
}

#[test]
fn many_wants_links_are_capped() {
    let d = tempfile::tempdir().unwrap();
    for dir in 0..20 {
        for i in 0..4000 {
            symlink(
                d.path(),
                &format!("/etc/systemd/system/t{dir}.target.wants/u{i}.service"),
                "/dev/null",
            );
        }
    }
    let start = Instant::now();
    let index = ServiceIndex::scan(&DirGuest::new(d.path()));
    assert!(start.elapsed() < BUDGET * 3, "{:?}", start.elapsed());
    let st = index.unit_state(&DirGuest::new(d.path()), "u1.service", None);
    assert!(st.enabled_by.len() <= 20);
    assert!(st.enabled_by.len() * 4000 <= MAX_INDEXED_LINKS + 4000);
}

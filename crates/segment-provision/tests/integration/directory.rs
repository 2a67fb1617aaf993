//! User emails from a c1z sync: group membership changes use them instead of `GET /users/{id}`.

use baton_c1z::{C1zReader, C1zWriter, ReaderOptions, WriterOptions};
use baton_model::ids::ResourceRef;
use baton_model::resource::{ResourceBuilder, UserDetails};
use segment_provision::{OutcomeKind, PrincipalDirectory, ProvisionOptions, Provisioner};

use crate::support::{env, id};

#[tokio::test]
async fn emails_come_from_the_c1z_when_given() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.c1z");
    let mut writer = C1zWriter::create(&path, WriterOptions::default()).unwrap();
    let carol: ResourceRef = id("user:u-carol");
    let resource = ResourceBuilder::new(carol.clone(), "Carol")
        .user(UserDetails::new("carol@example.com").email("Carol@Example.com", true));
    writer.put_resource(&resource).unwrap();
    let no_email =
        ResourceBuilder::new(id("user:u-ghost"), "Ghost").user(UserDetails::new("ghost"));
    writer.put_resource(&no_email).unwrap();
    writer.finish().unwrap();

    let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
    let directory = PrincipalDirectory::from_c1z(&reader, None).unwrap();
    assert_eq!(directory.len(), 1);
    assert_eq!(directory.email("u-carol"), Some("Carol@Example.com"));

    let env = env(ProvisionOptions::default()).await;
    let prov = Provisioner::new(env.session.clone(), ProvisionOptions::default())
        .with_directory(directory);
    let out = prov.grant(&id("group:g-ops:member"), &carol).await.unwrap();
    assert_eq!(out.kind, OutcomeKind::Granted);
    assert_eq!(env.calls("getUser"), 0, "the email came from the c1z");
    // Bob is not in the c1z: looked up.
    let out = prov
        .grant(&id("group:g-ops:member"), &id("user:u-bob"))
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Granted);
    assert_eq!(env.calls("getUser"), 1);
    assert_eq!(
        env.group_members("g-ops").into_iter().collect::<Vec<_>>(),
        ["bob@example.com", "carol@example.com"]
    );
}

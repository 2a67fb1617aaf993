//! The principals of a c1z sync: they give the types of principals given without one, but
//! never the email a group membership change writes (that is read fresh from Segment).

use baton_c1z::{C1zReader, C1zWriter, ReaderOptions, WriterOptions};
use baton_model::ids::ResourceRef;
use baton_model::resource::{ResourceBuilder, UserDetails};
use segment_provision::{OutcomeKind, PrincipalDirectory, ProvisionOptions, Provisioner};
use segment_scheme::PrincipalType;

use crate::support::{env, id};

#[tokio::test]
async fn the_c1z_gives_types_but_never_the_email_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.c1z");
    let mut writer = C1zWriter::create(&path, WriterOptions::default()).unwrap();
    let carol: ResourceRef = id("user:u-carol");
    // An outdated address: Segment now lists Carol as Carol@Example.com.
    let resource = ResourceBuilder::new(carol.clone(), "Carol")
        .user(UserDetails::new("carol.old@example.com").email("carol.old@example.com", true));
    writer.put_resource(&resource).unwrap();
    let no_email =
        ResourceBuilder::new(id("user:u-ghost"), "Ghost").user(UserDetails::new("ghost"));
    writer.put_resource(&no_email).unwrap();
    writer.finish().unwrap();

    let reader = C1zReader::open(&path, ReaderOptions::default()).unwrap();
    let directory = PrincipalDirectory::from_c1z(&reader, None).unwrap();
    assert_eq!(directory.len(), 1);
    assert_eq!(directory.email("u-carol"), Some("carol.old@example.com"));
    assert_eq!(directory.principal_types("u-ghost"), [PrincipalType::User]);

    let env = env(ProvisionOptions::default()).await;
    let prov = Provisioner::new(env.session.clone(), ProvisionOptions::default())
        .with_directory(directory);
    assert_eq!(
        prov.resolve_principal("u-ghost").await.unwrap(),
        id("user:u-ghost")
    );
    assert_eq!(env.calls("getUser"), 0, "the type came from the c1z");
    let out = prov.grant(&id("group:g-ops:member"), &carol).await.unwrap();
    assert_eq!(out.kind, OutcomeKind::Granted);
    assert_eq!(env.calls("getUser"), 1, "the email is read fresh");
    assert_eq!(
        env.group_members("g-ops").into_iter().collect::<Vec<_>>(),
        ["carol@example.com"]
    );
}

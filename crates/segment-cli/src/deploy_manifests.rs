//! Checks of `deploy/kubernetes/` against this CLI: every environment variable the manifests
//! set (in the Deployment or through the Secret) is one the CLI or the service runner reads,
//! label values are strings, one replica, probes on the health endpoints.

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use clap::CommandFactory as _;
    use serde_yaml::Value;

    use crate::cli::Cli;

    fn manifest(name: &str) -> Value {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../deploy/kubernetes")
            .join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        serde_yaml::from_str(&text).unwrap()
    }

    /// Every variable the program reads: clap `env` of every argument (subcommands included)
    /// plus the runner's environment-only ones.
    fn variables_read() -> BTreeSet<String> {
        fn walk(cmd: &clap::Command, out: &mut BTreeSet<String>) {
            for arg in cmd.get_arguments() {
                if let Some(env) = arg.get_env() {
                    out.insert(env.to_string_lossy().into_owned());
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, out);
            }
        }
        let mut out = BTreeSet::new();
        walk(&Cli::command(), &mut out);
        out.insert(baton_service::HOST_ID_ENV.to_owned());
        out.insert(baton_service::API_HOST_ENV.to_owned());
        out
    }

    #[test]
    fn every_variable_the_manifests_set_is_read() {
        let read = variables_read();
        let secret = manifest("secret.yaml");
        let secret_keys: Vec<String> = secret["stringData"]
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect();
        for key in [
            "BATON_CLIENT_ID",
            "BATON_CLIENT_SECRET",
            "BATON_TOKEN",
            "BATON_PROVISIONING",
        ] {
            assert!(
                secret_keys.iter().any(|k| k == key),
                "the secret lacks {key}"
            );
        }
        let deployment = manifest("deployment.yaml");
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        let env_names: Vec<String> = container["env"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_owned())
            .collect();
        assert!(env_names.iter().any(|n| n == "BATON_HOST_ID"));
        for name in secret_keys.iter().chain(&env_names) {
            assert!(
                read.contains(name),
                "{name} is set by the manifests but read by nothing"
            );
        }
        // The secret reaches the container through envFrom.
        assert_eq!(
            container["envFrom"][0]["secretRef"]["name"],
            secret["metadata"]["name"]
        );
        // No arguments: service mode comes from the environment.
        assert!(container.get("args").is_none() && container.get("command").is_none());
    }

    #[test]
    fn labels_replicas_and_probes() {
        let deployment = manifest("deployment.yaml");
        assert_eq!(deployment["spec"]["replicas"], Value::from(1));
        let labels = deployment["spec"]["template"]["metadata"]["labels"]
            .as_mapping()
            .unwrap();
        for (k, v) in labels {
            assert!(v.is_string(), "label {k:?} must be a string, not {v:?}");
        }
        assert_eq!(labels["baton"], Value::from("true"));
        assert_eq!(
            labels["app"],
            deployment["spec"]["selector"]["matchLabels"]["app"]
        );
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            container["livenessProbe"]["httpGet"]["path"],
            Value::from("/live")
        );
        assert_eq!(
            container["readinessProbe"]["httpGet"]["path"],
            Value::from("/ready")
        );
        let port = container["env"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "BATON_HEALTH_CHECK_PORT")
            .map(|e| e["value"].as_str().unwrap().parse::<u16>().unwrap());
        assert_eq!(port, Some(baton_service::DEFAULT_HEALTH_PORT));
        assert_eq!(container["ports"][0]["containerPort"], Value::from(8081));
    }
}

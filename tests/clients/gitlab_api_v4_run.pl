#!/usr/bin/perl
# A realistic run of Debian's libgitlab-api-v4-perl (GitLab::API::v4) against
# `gl-csm sandbox serve`:  perl gitlab_api_v4_run.pl URL TOKEN
use strict;
use warnings;
use GitLab::API::v4;

my ($url, $token) = @ARGV;
my $api = GitLab::API::v4->new(url => "$url/api/v4", private_token => $token);
my $tag = sprintf('%x', time() ^ $$);
my $failed = 0;

sub step {
    my ($name, $code) = @_;
    my $out = eval { $code->() };
    if ($@) { print "FAIL $name: $@\n"; $failed = 1; exit 1; }
    print "ok $name\n";
    return $out;
}

# create_group answers nothing in this version (it does not decode): read it back.
step('create group', sub { $api->create_group({ name => "Perl $tag", path => "perl-$tag" }) });
my $group = step('read group', sub { $api->group("perl-$tag") });
my $project = step('create project', sub {
    $api->create_project({ name => 'app', namespace_id => $group->{id}, description => 'by perl' });
});
my $pid = $project->{id};
step('create label', sub { $api->create_label($pid, { name => 'bug', color => '#ff0000' }) });
my $ms = step('create milestone', sub { $api->create_project_milestone($pid, { title => 'v1' }) });
my $issue = step('create issue', sub {
    $api->create_issue($pid, { title => 'First', labels => 'bug', milestone_id => $ms->{id} });
});
my $iid = $issue->{iid};
my $note = step('create note', sub { $api->create_issue_note($pid, $iid, { body => 'A comment' }) });
step('list issues', sub {
    my $issues = $api->issues($pid, { labels => 'bug', state => 'opened' });
    die "issues: " . scalar(@$issues) . "\n" unless @$issues == 1;
});
step('list labels', sub { my $l = $api->labels($pid); die "labels\n" unless @$l == 1; });
step('edit issue', sub { $api->edit_issue($pid, $iid, { title => 'Renamed', add_labels => 'triage' }) });
step('issue notes', sub { my $n = $api->issue_notes($pid, $iid); die "notes\n" unless @$n >= 1; });
my $users = step('find user', sub { $api->users({ username => 'vp-cs' }) });
my $uid = $users->[0]{id};
step('add member', sub { $api->add_project_member($pid, { user_id => $uid, access_level => 30 }) });
step('list members', sub { my $m = $api->project_members($pid); die "members\n" unless @$m == 1; });
step('commit files', sub {
    $api->create_commit($pid, {
        branch => 'main',
        commit_message => 'Add files',
        actions => [
            { action => 'create', file_path => 'README.md', content => "# app\n" },
            { action => 'create', file_path => 'docs/a.md', content => "a\n" },
        ],
    });
});
step('edit project', sub { $api->edit_project($pid, { description => 'edited' }) });
step('delete note', sub { $api->delete_issue_note($pid, $iid, $note->{id}) });
step('delete label', sub { $api->delete_label($pid, { name => 'bug' }) });
step('remove member', sub { $api->remove_project_member($pid, $uid) });
step('delete issue', sub { $api->delete_issue($pid, $iid) });
print "done\n";
exit $failed;

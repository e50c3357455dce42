# A realistic run of Debian's ruby-gitlab (the `gitlab` gem) against
# `gl-csm sandbox serve`:  ruby ruby_gitlab_run.rb URL TOKEN
require 'gitlab'

url, token = ARGV
api = Gitlab.client(endpoint: "#{url}/api/v4", private_token: token)
tag = format('%x', Time.now.to_i ^ Process.pid)

def step(name)
  out = yield
  puts "ok #{name}"
  out
rescue StandardError => e
  puts "FAIL #{name}: #{e.class}: #{e.message}"
  exit 1
end

group = step('create group') { api.create_group("Ruby #{tag}", "ruby-#{tag}") }
project = step('create project') do
  api.create_project('app', namespace_id: group.id, description: 'by ruby-gitlab')
end
pid = project.id
step('create label') { api.create_label(pid, 'bug', '#ff0000') }
step('create group label') { api.create_group_label(group.id, 'team', '#00ff00') }
ms = step('create milestone') { api.create_milestone(pid, 'v1') }
issue = step('create issue') do
  api.create_issue(pid, 'First', labels: 'bug,team', milestone_id: ms.id)
end
note = step('create note') { api.create_issue_note(pid, issue.iid, 'A comment') }
step('list issues') do
  found = api.issues(pid, labels: 'bug')
  raise "issues: #{found.size}" unless found.size == 1
end
step('edit issue') { api.edit_issue(pid, issue.iid, title: 'Renamed', state_event: 'close') }
user = step('find user') { api.users(username: 'vp-cs').first }
step('add member') { api.add_team_member(pid, user.id, 30) }
step('list members') do
  members = api.team_members(pid)
  raise "members: #{members.size}" unless members.size == 1
end
step('commit files') do
  api.create_commit(pid, 'main', 'Add files', [
    { action: 'create', file_path: 'README.md', content: "# app\n" },
    { action: 'create', file_path: 'docs/a.md', content: "a\n" }
  ])
end
step('tree') do
  paths = api.tree(pid, recursive: true).map(&:path)
  raise "tree: #{paths}" unless paths.include?('docs/a.md')
end
step('edit project') { api.edit_project(pid, description: 'edited') }
step('delete note') { api.delete_issue_note(pid, issue.iid, note.id) }
step('delete label') { api.delete_label(pid, 'bug') }
step('remove member') { api.remove_team_member(pid, user.id) }
step('delete issue') { api.delete_issue(pid, issue.iid) }
step('group') { api.group(group.id) }
puts 'done'
